// Unit tests of the Call's ICE server handling over fake signaling and fake peer connections, in virtual time:
// the planned credential renewal (and the ICE restart of relayed links after it), the transport filter, and
// the "TURN is probably needed" event.
// Run: node --test web/tests/   (Node 20+, no dependencies)
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { Call } from '../client/call.js';
import { FakeSocket, installBrowserFakes, pcOf } from './fakes.js';

const TURN = {
  urls: ['turn:h:3478?transport=udp', 'turn:h:3478?transport=tcp'], username: '1:peer-1', credential: 'old',
};
const STUN = { urls: ['stun:h:3478'] };

/** Lets promise chains (the Call's awaits) run; setImmediate is not mocked. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};
const socket = () => /** @type {FakeSocket} */ (FakeSocket.all.at(-1));

/** @param {string} peerId */
const member = (peerId) => ({ peerId, name: peerId, polite: false, audio: false, video: false, away: false });

/**
 * A receive-only Call joined to a room with these members (our side impolite towards each).
 * @param {{iceServers: any[], expireAtMs?: number, members: string[], options?: object}} setup
 */
async function joinedCall({ iceServers, expireAtMs, members, options = {} }) {
  const call = new Call({ url: 'ws://test/ws', room: 'family', name: 'Ana', ...options });
  const joining = call.join();
  socket().open();
  socket().deliver({
    type: 'welcome', protocol: 1, peerId: 'peer-1', resumeToken: 't', resumed: false, iceServers,
    ...(expireAtMs === undefined ? {} : { iceServersExpireAtMs: expireAtMs }),
    heartbeatIntervalMs: 1_000_000, heartbeatTimeoutMs: 1_000_000, resumeGraceMs: 30_000,
    limits: { maxMessageBytes: 65536, messagesPerSecond: 50, maxNameLength: 64, maxRoomLength: 64, maxRoomCapacity: 4 },
  });
  await settle();
  const { rid } = socket().sentOf('join')[0];
  socket().deliver({ type: 'joined', rid, room: 'family', capacity: 4, passwordProtected: false, members: members.map(member) });
  await joining;
  return call;
}

beforeEach(installBrowserFakes);
afterEach(() => mock.timers.reset());

test('credentials are renewed at 80 % of their life; a relayed link then restarts ICE, a direct one does not', async () => {
  const call = await joinedCall({ iceServers: [STUN, TURN], expireAtMs: Date.now() + 1_000_000, members: ['relayed', 'direct'] });
  const relayed = pcOf(call, 'relayed');
  const direct = pcOf(call, 'direct');
  relayed.selectedLocalType = 'relay';
  direct.selectedLocalType = 'host';
  relayed.setState('connected');
  direct.setState('connected');

  mock.timers.tick(790_000);
  await settle();
  assert.equal(socket().sentOf('ice-servers').length, 0, 'not before 80 % of the life');
  mock.timers.tick(15_000);
  await settle();
  const [request] = socket().sentOf('ice-servers');
  assert.ok(request, 'an ice-servers request at 80 %');

  const fresh = { ...TURN, username: '2:peer-1', credential: 'new' };
  socket().deliver({ type: 'ice-servers', rid: request.rid, iceServers: [STUN, fresh], expireAtMs: Date.now() + 2_000_000 });
  await settle();

  for (const pc of [relayed, direct]) assert.deepEqual(pc.configurations.at(-1).iceServers, [STUN, fresh]);
  assert.equal(relayed.restarts, 1, 'the relayed link moves to allocations with the fresh credentials');
  assert.equal(direct.restarts, 0, 'a direct link keeps its pair');
  assert.equal(socket().sentOf('ice-servers').length, 1, 'the restart reuses the list just fetched');
  call.hangUp();
});

test('no restart when the renewal got no fresh list', async () => {
  const call = await joinedCall({ iceServers: [TURN], expireAtMs: Date.now() + 100_000, members: ['relayed'] });
  const relayed = pcOf(call, 'relayed');
  relayed.selectedLocalType = 'relay';
  relayed.setState('connected');

  mock.timers.tick(80_000);
  await settle();
  const [request] = socket().sentOf('ice-servers');
  socket().deliver({ type: 'error', id: 'rate-limited', message: 'slow down', rid: request.rid, ref: 'ice-servers' });
  await settle();
  assert.equal(relayed.restarts, 0);
  call.hangUp();
});

test('the iceTransports option filters the TURN URLs every link uses; the Call still reports the full list', async () => {
  const call = await joinedCall({ iceServers: [STUN, TURN], members: ['bo'], options: { iceTransports: ['tcp'], iceTransportPolicy: 'relay' } });
  const pc = pcOf(call, 'bo');
  assert.equal(pc.configuration.iceTransportPolicy, 'relay');
  assert.deepEqual(pc.configuration.iceServers, [STUN, { ...TURN, urls: ['turn:h:3478?transport=tcp'] }]);
  assert.deepEqual(call.iceServers, [STUN, TURN]);
  call.hangUp();
});

test('turn-needed: a link not connected after 10 s with no TURN server in the list', async () => {
  const call = await joinedCall({ iceServers: [STUN], members: ['bo'] });
  /** @type {string[]} */
  const hinted = [];
  call.on('turn-needed', ({ peerId }) => hinted.push(peerId));
  mock.timers.tick(9_000);
  await settle();
  assert.deepEqual(hinted, []);
  mock.timers.tick(1_500);
  await settle();
  assert.deepEqual(hinted, ['bo']);
  mock.timers.tick(60_000);
  await settle();
  assert.deepEqual(hinted, ['bo'], 'once per connection');
  call.hangUp();
});

test('turn-needed: TURN listed but no relay candidate gathered; not when a relay candidate exists', async () => {
  const call = await joinedCall({ iceServers: [TURN], members: ['noRelay', 'withRelay'] });
  /** @type {string[]} */
  const hinted = [];
  call.on('turn-needed', ({ peerId }) => hinted.push(peerId));
  pcOf(call, 'withRelay').gather('relay');
  mock.timers.tick(10_500);
  await settle();
  assert.deepEqual(hinted, ['noRelay']);
  call.hangUp();
});

test('no turn-needed for a link that connects in time', async () => {
  const call = await joinedCall({ iceServers: [], members: ['bo'] });
  /** @type {string[]} */
  const hinted = [];
  call.on('turn-needed', ({ peerId }) => hinted.push(peerId));
  pcOf(call, 'bo').setState('connected');
  mock.timers.tick(30_000);
  await settle();
  assert.deepEqual(hinted, []);
  call.hangUp();
});
