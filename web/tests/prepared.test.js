// Unit tests of the first offer made ahead of time (client/prepared.js) and of how a Call and a PeerLink use it:
// the offer goes to the first member as soon as `joined` arrives, before the app hears of the member; it is
// freed when it does not fit; and an answer goes out before it is applied.
// Run: node --test web/tests/   (Node 20+, no dependencies)
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { Call } from '../client/call.js';
import { PeerLink } from '../client/peer.js';
import { PREPARED_OFFER_MAX_AGE_MS, PreparedOffer } from '../client/prepared.js';
import { FakeMediaStream, FakePeerConnection, FakeSocket, fakeTrack, installBrowserFakes, pcOf } from './fakes.js';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};
const socket = () => /** @type {FakeSocket} */ (FakeSocket.all.at(-1));
const inAnHour = () => Date.now() + 3_600_000;

const welcome = () => ({
  type: 'welcome', protocol: 1, peerId: 'me', resumeToken: 't', resumed: false, iceServers: [],
  heartbeatIntervalMs: 1_000_000, heartbeatTimeoutMs: 1_000_000, resumeGraceMs: 30_000,
  limits: { maxMessageBytes: 65536, messagesPerSecond: 50, maxNameLength: 64, maxRoomLength: 64, maxRoomCapacity: 4 },
});
/** @param {string} peerId */
const member = (peerId) => ({ peerId, name: peerId, polite: true, audio: true, video: true, away: false });
const cameraAndMicrophone = () => /** @type {MediaStream} */ (/** @type {unknown} */ (new FakeMediaStream([fakeTrack('audio'), fakeTrack('video')])));

/**
 * A prepared offer whose description is set (as after the seconds spent in a lobby).
 * @param {MediaStream} localStream @param {Partial<import('../client/prepared.js').PreparedOfferOptions>} [options]
 */
async function preparedOffer(localStream, options = {}) {
  const prepared = new PreparedOffer({ iceServers: [], iceServersExpireAtMs: inAnHour(), localStream, ...options });
  await prepared.offered;
  return prepared;
}

/**
 * Joins a room holding `members` with this prepared offer; `seen` records, in order, each `sdp` sent and each
 * `member-joined` the app hears.
 * @param {string[]} members @param {PreparedOffer} prepared @param {MediaStream} localStream
 */
async function joinWith(members, prepared, localStream) {
  const call = new Call({ url: 'ws://test/ws', room: 'family', name: 'Ana', localStream, prepared });
  /** @type {string[]} */
  const seen = [];
  call.on('member-joined', ({ peerId }) => seen.push(`member-joined ${peerId}`));
  const joining = call.join();
  socket().open();
  socket().deliver(welcome());
  await settle();
  const sent = socket().sent.length;
  const { rid } = socket().sentOf('join')[0];
  const send = socket().send.bind(socket());
  socket().send = (/** @type {string} */ text) => {
    const message = JSON.parse(text);
    if (message.type === 'sdp') seen.push(`sdp ${message.description.type} to ${message.to}`);
    send(text);
  };
  socket().deliver({ type: 'joined', rid, room: 'family', capacity: 4, passwordProtected: false, members: members.map(member) });
  await joining;
  await settle();
  return { call, seen, sentAfterJoin: socket().sent.slice(sent) };
}

/** A Call (without a prepared offer) that joins an empty room. @param {MediaStream} localStream */
async function joinAlone(localStream) {
  const call = new Call({ url: 'ws://test/ws', room: 'family', name: 'Ana', localStream });
  const joining = call.join();
  socket().open();
  socket().deliver(welcome());
  await settle();
  socket().deliver({ type: 'joined', rid: socket().sentOf('join')[0].rid, room: 'family', capacity: 4, passwordProtected: false, members: [] });
  await joining;
  return call;
}

beforeEach(installBrowserFakes);
afterEach(() => mock.timers.reset());

test('the prepared offer goes to the first member as soon as joined arrives, before the app hears of the member', async () => {
  const stream = cameraAndMicrophone();
  const prepared = await preparedOffer(stream);
  const pc = /** @type {FakePeerConnection} */ (/** @type {unknown} */ (prepared.pc));
  const offerSdp = pc.localDescription?.sdp;
  const { call, seen } = await joinWith(['bo', 'cy'], prepared, stream);

  assert.equal(pcOf(call, 'bo'), pc, 'the link to the first member is the prepared connection');
  assert.equal(pc.localDescription?.sdp, offerSdp, 'its offer was not made again');
  assert.deepEqual(seen.slice(0, 2), ['sdp offer to bo', 'member-joined bo']);
  assert.notEqual(pcOf(call, 'cy'), pc, 'the second member gets a connection of its own');
  assert.ok(seen.includes('sdp offer to cy'));
  assert.equal(FakePeerConnection.all.length, 2, 'one connection prepared, one made at join');
  call.hangUp();
});

test('the prepared connection sends the call stream: a track switched to in the lobby replaces the old one', async () => {
  const lobbyStream = cameraAndMicrophone();
  const prepared = await preparedOffer(lobbyStream);
  const joinStream = cameraAndMicrophone(); // another camera picked after the offer was made
  const { call } = await joinWith(['bo'], prepared, joinStream);
  const senders = pcOf(call, 'bo').transceivers.map((t) => t.sender.track);
  assert.deepEqual(senders, joinStream.getTracks());
  call.hangUp();
});

const misfits = [
  { name: 'the call sends other kinds (audio only)', stream: () => new FakeMediaStream([fakeTrack('audio')]), options: {} },
  { name: 'its TURN credentials expire within 10 minutes', stream: cameraAndMicrophone, options: { iceServersExpireAtMs: Date.now() + 60_000 } },
  { name: 'another ICE transport policy', stream: cameraAndMicrophone, options: { iceTransportPolicy: /** @type {const} */ ('relay') } },
];
for (const { name, stream, options } of misfits) {
  test(`a prepared offer that does not fit is closed and the link makes its own: ${name}`, async () => {
    const prepared = await preparedOffer(cameraAndMicrophone(), options);
    const { call, seen } = await joinWith(['bo'], prepared, /** @type {MediaStream} */ (/** @type {unknown} */ (stream())));
    assert.equal(prepared.pc.signalingState, 'closed', 'freed, with its TURN allocations');
    assert.notEqual(pcOf(call, 'bo'), prepared.pc);
    assert.deepEqual(seen.filter((s) => s.startsWith('sdp')), ['sdp offer to bo']);
    call.hangUp();
  });
}

test('a prepared offer older than the maximum age does not fit', async () => {
  const stream = cameraAndMicrophone();
  const prepared = await preparedOffer(stream);
  assert.equal(prepared.fits(stream), true);
  const now = performance.now();
  const clock = mock.method(performance, 'now', () => now + PREPARED_OFFER_MAX_AGE_MS + 1);
  assert.equal(prepared.fits(stream), false);
  clock.mock.restore();
});

test('with nobody in the room the prepared offer is freed', async () => {
  const stream = cameraAndMicrophone();
  const prepared = await preparedOffer(stream);
  const { call, sentAfterJoin } = await joinWith([], prepared, stream);
  assert.equal(prepared.pc.signalingState, 'closed');
  assert.deepEqual(sentAfterJoin.filter((m) => m.type === 'sdp'), []);
  call.hangUp();
});

test('a refused join frees the prepared offer', async () => {
  const stream = cameraAndMicrophone();
  const prepared = await preparedOffer(stream);
  const call = new Call({ url: 'ws://test/ws', room: 'family', name: 'Ana', localStream: stream, prepared });
  const joining = call.join();
  socket().open();
  socket().deliver(welcome());
  await settle();
  const { rid } = socket().sentOf('join')[0];
  socket().deliver({ type: 'error', rid, id: 'room-full', message: 'The room is full.' });
  await assert.rejects(joining, { id: 'room-full' });
  assert.equal(prepared.pc.signalingState, 'closed');
});

test('a prepared offer still being set is sent once it is', async () => {
  const stream = cameraAndMicrophone();
  /** @type {() => void} */
  let finish = () => {};
  const slow = class extends FakePeerConnection {
    /** @param {any} [description] */
    async setLocalDescription(description) {
      await new Promise((resolve) => { finish = () => resolve(undefined); });
      return super.setLocalDescription(description);
    }
  };
  const prepared = new PreparedOffer({ iceServers: [], localStream: stream, RTCPeerConnection: /** @type {any} */ (slow) });
  const { call, seen } = await joinWith(['bo'], prepared, stream);
  assert.deepEqual(seen.filter((s) => s.startsWith('sdp')), []);
  finish();
  await settle();
  assert.equal(pcOf(call, 'bo'), prepared.pc);
  assert.deepEqual(seen.filter((s) => s.startsWith('sdp')), ['sdp offer to bo']);
  call.hangUp();
});

test('an answer is sent before it is applied', async () => {
  /** @type {{to: string, description: any}[]} */
  const sent = [];
  const stalled = class extends FakePeerConnection {
    // setLocalDescription(answer) never finishes: the peer must have the answer anyway.
    /** @param {any} [description] */
    setLocalDescription(description) { return description?.type === 'answer' ? new Promise(() => {}) : super.setLocalDescription(description); }
  };
  const link = new PeerLink({
    peerId: 'bo', polite: false, initiator: false, iceServers: [],
    signaling: { sendSdp: (to, description) => sent.push({ to, description }), sendCandidate() {}, sendRestartRequest() {} },
    localStream: /** @type {MediaStream} */ (/** @type {unknown} */ (new FakeMediaStream())),
    RTCPeerConnection: /** @type {any} */ (stalled),
  });
  link.receiveDescription({ type: 'offer', sdp: 'v=0\r\no=- 9 1 IN IP4 127.0.0.1\r\n' });
  await settle();
  assert.deepEqual(sent.map((m) => m.description.type), ['answer']);
  link.close();
});

test('a member answers the next newcomer on a connection made while the call was idle', async () => {
  const stream = cameraAndMicrophone();
  const call = await joinAlone(stream);
  assert.equal(FakePeerConnection.all.length, 0, 'not at once: a join is busy enough');
  mock.timers.tick(1_000);
  const spare = /** @type {FakePeerConnection} */ (FakePeerConnection.all.at(-1));
  assert.deepEqual(spare?.transceivers.map((t) => t.sender.track), stream.getTracks(), 'it carries the call tracks');

  socket().deliver({ type: 'peer-joined', room: 'family', member: { ...member('eve'), polite: false } });
  await settle();
  assert.equal(pcOf(call, 'eve'), spare);
  assert.equal(spare.transceivers.length, 2, 'the link added no tracks of its own');
  socket().deliver({ type: 'sdp', from: 'eve', description: { type: 'offer', sdp: 'v=0\r\no=- 77 1 IN IP4 127.0.0.1\r\n' } });
  await settle();
  assert.deepEqual(socket().sentOf('sdp').map((m) => m.description.type), ['answer']);

  mock.timers.tick(1_000);
  assert.equal(FakePeerConnection.all.length, 2, 'the next spare, once this setup is over');
  call.hangUp();
  assert.equal(FakePeerConnection.all[1].signalingState, 'closed', 'hang-up closes the spare too');
});

test('switching the camera replaces the spare connection', async () => {
  const stream = cameraAndMicrophone();
  const call = await joinAlone(stream);
  mock.timers.tick(1_000);
  const first = /** @type {FakePeerConnection} */ (FakePeerConnection.all[0]);
  const camera = fakeTrack('video');
  await call.replaceTrack('video', /** @type {MediaStreamTrack} */ (/** @type {unknown} */ (camera)));
  assert.equal(first.signalingState, 'closed');
  mock.timers.tick(1_000);
  const second = /** @type {FakePeerConnection} */ (FakePeerConnection.all[1]);
  assert.ok(second.transceivers.some((t) => t.sender.track === camera), 'the new one sends the new camera');
  call.hangUp();
});
