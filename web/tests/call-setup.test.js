// Unit tests of how a Call sets up its mesh, over fake signaling and fake peer connections: who makes the
// first offer of each pair (the newcomer, exactly one side), later renegotiation by either side, and joining
// on a signaling session opened earlier (the app's lobby).
// Run: node --test web/tests/   (Node 20+, no dependencies)
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { Call } from '../client/call.js';
import { PeerLink } from '../client/peer.js';
import { SignalingClient } from '../client/signaling.js';
import { FakeMediaStream, FakePeerConnection, FakeSocket, installBrowserFakes, pcOf } from './fakes.js';

/** Lets promise chains (the Call's awaits) run; setImmediate is not mocked. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};
const socket = () => /** @type {FakeSocket} */ (FakeSocket.all.at(-1));

/** @param {object} [fields] */
const welcome = (fields = {}) => ({
  type: 'welcome', protocol: 1, peerId: 'me', resumeToken: 't', resumed: false, iceServers: [],
  heartbeatIntervalMs: 1_000_000, heartbeatTimeoutMs: 1_000_000, resumeGraceMs: 30_000,
  limits: { maxMessageBytes: 65536, messagesPerSecond: 50, maxNameLength: 64, maxRoomLength: 64, maxRoomCapacity: 4 },
  ...fields,
});

/** We joined later than everyone listed in `joined`, so we are polite towards them. @param {string} peerId @param {boolean} polite */
const member = (peerId, polite) => ({ peerId, name: peerId, polite, audio: true, video: true, away: false });

/** The types of the `sdp` messages sent to one peer. @param {string} to */
const sdpTo = (to) => socket().sentOf('sdp').filter((m) => m.to === to).map((m) => m.description.type);

/** A Call that joins a room holding these members; resolves once joined. @param {string[]} members */
async function joinRoom(members, options = {}) {
  const call = new Call({ url: 'ws://test/ws', room: 'family', name: 'Ana', ...options });
  const joining = call.join();
  if (!options.signaling) {
    socket().open();
    socket().deliver(welcome());
  }
  await settle();
  const { rid } = socket().sentOf('join')[0];
  socket().deliver({ type: 'joined', rid, room: 'family', capacity: 4, passwordProtected: false, members: members.map((id) => member(id, true)) });
  await joining;
  await settle();
  return call;
}

beforeEach(installBrowserFakes);
afterEach(() => mock.timers.reset());

test('the newcomer makes the first offer to every member listed in joined, although it is the polite side', async () => {
  const call = await joinRoom(['bo', 'cy', 'di']);
  for (const peerId of ['bo', 'cy', 'di']) {
    const link = /** @type {PeerLink} */ (call.links.get(peerId));
    assert.equal(link.polite, true, 'the later joiner is polite');
    assert.equal(link.initiator, true);
    assert.deepEqual(sdpTo(peerId), ['offer'], `one offer to ${peerId}`);
  }
  call.hangUp();
});

test('a member who joins later gets no offer from us: we wait for theirs and answer it', async () => {
  const call = await joinRoom([]);
  socket().deliver({ type: 'peer-joined', room: 'family', member: member('eve', false) });
  await settle();
  const link = /** @type {PeerLink} */ (call.links.get('eve'));
  assert.equal(link.initiator, false);
  assert.equal(link.polite, false, 'the earlier joiner is impolite, and still waits');
  // Chromium fires negotiationneeded for our tracks; the link must not offer before the newcomer's offer.
  pcOf(call, 'eve').onnegotiationneeded?.();
  await settle();
  assert.deepEqual(sdpTo('eve'), []);

  socket().deliver({ type: 'sdp', from: 'eve', description: { type: 'offer', sdp: 'v=0\r\no=- 77 1 IN IP4 127.0.0.1\r\n' } });
  await settle();
  assert.deepEqual(sdpTo('eve'), ['answer'], 'exactly one side offered: no glare at setup');
  assert.equal(pcOf(call, 'eve').signalingState, 'stable');
  call.hangUp();
});

test('after the first exchange either side renegotiates, and an ICE restart stays with the impolite side', async () => {
  const call = await joinRoom([]);
  socket().deliver({ type: 'peer-joined', room: 'family', member: member('eve', false) });
  await settle();
  socket().deliver({ type: 'sdp', from: 'eve', description: { type: 'offer', sdp: 'v=0\r\no=- 77 1 IN IP4 127.0.0.1\r\n' } });
  await settle();
  const pc = pcOf(call, 'eve');
  pc.onnegotiationneeded?.();
  await settle();
  assert.deepEqual(sdpTo('eve'), ['answer', 'offer'], 'a renegotiation from the side that did not start the pair');

  // We are impolite towards Eve: her restart request makes us restart ICE.
  socket().deliver({ type: 'sdp', from: 'eve', description: { type: 'answer', sdp: 'v=0\r\no=- 77 2 IN IP4 127.0.0.1\r\n' } });
  await settle();
  socket().deliver({ type: 'restart-request', from: 'eve' });
  await settle();
  assert.equal(pc.restarts, 1);
  call.hangUp();
});

test('a side still waiting for the first offer makes one when it restarts ICE (the offer was lost)', async () => {
  /** @type {string[]} */
  const sent = [];
  const link = new PeerLink({
    peerId: 'bo', polite: false, initiator: false, iceServers: [],
    signaling: { sendSdp: (_, description) => sent.push(description.type), sendCandidate: () => {}, sendRestartRequest: () => {} },
    localStream: /** @type {any} */ (new FakeMediaStream()),
    RTCPeerConnection: /** @type {any} */ (FakePeerConnection),
  });
  link.pc.onnegotiationneeded?.(new Event('negotiationneeded'));
  await settle();
  assert.deepEqual(sent, []);
  link.forceRestartIce();
  await settle();
  assert.deepEqual(sent, ['offer']);
  link.close();
});

test('a link rebuilt for a returning member is offered by the impolite side, as before', async () => {
  const call = await joinRoom(['bo']);
  const first = call.links.get('bo');
  socket().deliver({ type: 'peer-away', room: 'family', peerId: 'bo' });
  mock.timers.tick(5_000); // not connected: dropped
  await settle();
  assert.equal(call.links.get('bo'), undefined);
  socket().deliver({ type: 'peer-back', room: 'family', peerId: 'bo' });
  await settle();
  const rebuilt = /** @type {PeerLink} */ (call.links.get('bo'));
  assert.notEqual(rebuilt, first);
  assert.equal(rebuilt.initiator, false, 'we are polite towards Bo: his side offers');
  call.hangUp();
});

test('join() on a session opened earlier sends only join: no second socket, no second hello', async () => {
  const signaling = new SignalingClient({ url: 'ws://test/ws' });
  const opened = signaling.connect();
  socket().open();
  socket().deliver(welcome({ iceServers: [{ urls: ['stun:h:3478'] }], iceServersExpireAtMs: Date.now() + 3_600_000 }));
  await opened;

  const call = await joinRoom(['bo'], { signaling });
  assert.equal(FakeSocket.all.length, 1);
  assert.deepEqual(socket().sent.map((m) => m.type), ['hello', 'join', 'media', 'sdp']);
  assert.equal(call.peerId, 'me');
  assert.deepEqual(pcOf(call, 'bo').configuration.iceServers, [{ urls: ['stun:h:3478'] }]);
  call.hangUp();
  assert.equal(socket().sent.at(-1).type, 'bye', 'the Call owns the session it was given');
});

test('join() on a session whose TURN credentials are about to expire renews them first', async () => {
  const signaling = new SignalingClient({ url: 'ws://test/ws' });
  const opened = signaling.connect();
  socket().open();
  socket().deliver(welcome({ iceServers: [{ urls: ['turn:h:3478'], username: 'old', credential: 'x' }], iceServersExpireAtMs: Date.now() + 60_000 }));
  await opened;

  const call = new Call({ url: 'ws://test/ws', room: 'family', name: 'Ana', signaling });
  const joining = call.join();
  await settle();
  assert.deepEqual(socket().sentOf('join'), [], 'not before the fresh list');
  const [request] = socket().sentOf('ice-servers');
  const fresh = [{ urls: ['turn:h:3478'], username: 'new', credential: 'y' }];
  socket().deliver({ type: 'ice-servers', rid: request.rid, iceServers: fresh, expireAtMs: Date.now() + 3_600_000 });
  await settle();
  const { rid } = socket().sentOf('join')[0];
  socket().deliver({ type: 'joined', rid, room: 'family', capacity: 4, passwordProtected: false, members: [member('bo', true)] });
  await joining;
  assert.deepEqual(pcOf(call, 'bo').configuration.iceServers, fresh);
  call.hangUp();
});

test('a refused join on a session opened earlier closes it (the app opens a new one)', async () => {
  const signaling = new SignalingClient({ url: 'ws://test/ws' });
  const opened = signaling.connect();
  socket().open();
  socket().deliver(welcome());
  await opened;

  const call = new Call({ url: 'ws://test/ws', room: 'family', name: 'Ana', signaling });
  const joining = call.join();
  await settle();
  const { rid } = socket().sentOf('join')[0];
  socket().deliver({ type: 'error', id: 'room-full', message: 'full', rid, ref: 'join' });
  await assert.rejects(joining, { id: 'room-full' });
  assert.equal(signaling.state, 'closed');
  assert.equal(socket().sent.at(-1).type, 'bye');
});
