// Unit tests of the signaling session over a fake WebSocket and Node's mock timers (virtual time).
// Run: node --test web/tests/   (Node 20+, no dependencies)
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { backoffDelay } from '../client/backoff.js';
import { SignalingClient } from '../client/signaling.js';
import { FakeSocket } from './fakes.js';

/** @param {object} [fields] */
function welcome(fields = {}) {
  return {
    type: 'welcome', protocol: 1, peerId: 'peer-1', resumeToken: 'token-1', resumed: false, iceServers: [],
    heartbeatIntervalMs: 20_000, heartbeatTimeoutMs: 45_000, resumeGraceMs: 30_000,
    limits: { maxMessageBytes: 65536, messagesPerSecond: 50, maxNameLength: 64, maxRoomLength: 64, maxRoomCapacity: 4 },
    ...fields,
  };
}

const latest = () => /** @type {FakeSocket} */ (FakeSocket.all.at(-1));

/** A client that has been welcomed on its first socket. */
async function connected() {
  const client = new SignalingClient({ url: 'ws://test/ws', WebSocket: /** @type {any} */ (FakeSocket), client: 'unit' });
  const welcomed = client.connect();
  latest().open();
  latest().deliver(welcome());
  await welcomed;
  return client;
}

beforeEach(() => {
  FakeSocket.all = [];
  mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
});
afterEach(() => mock.timers.reset());

test('says hello with the protocol version and resolves connect() with the welcome', async () => {
  const client = await connected();
  assert.deepEqual(latest().sent[0], { type: 'hello', protocol: 1, client: 'unit' });
  assert.equal(client.state, 'open');
  assert.equal(client.peerId, 'peer-1');
});

test('matches replies and errors to requests by rid', async () => {
  const client = await connected();
  const joining = client.join({ room: 'family', name: 'Ana' });
  const join = latest().sentOf('join')[0];
  assert.equal(join.room, 'family');
  assert.equal(typeof join.rid, 'string');
  latest().deliver({ type: 'joined', rid: join.rid, room: 'family', capacity: 4, passwordProtected: false, members: [] });
  assert.equal((await joining).room, 'family');

  const refused = client.join({ room: 'full', name: 'Ana' });
  const second = latest().sentOf('join')[1];
  latest().deliver({ type: 'error', id: 'room-full', message: 'full', rid: second.rid, ref: 'join' });
  await assert.rejects(refused, { name: 'SignalingError', id: 'room-full' });
});

test('a refused first connection rejects connect() and closes the client', async () => {
  const client = new SignalingClient({ url: 'ws://test/ws', WebSocket: /** @type {any} */ (FakeSocket) });
  const connecting = client.connect();
  latest().drop(1006);
  await assert.rejects(connecting, { id: 'disconnected' });
  assert.equal(client.state, 'closed');
});

test('pings every heartbeat interval and keeps the resume token of the latest pong', async () => {
  const client = await connected();
  mock.timers.tick(20_000);
  assert.equal(latest().sentOf('ping').length, 1);
  latest().deliver({ type: 'pong', resumeToken: 'token-2' });
  mock.timers.tick(20_000);
  assert.equal(latest().sentOf('ping').length, 2);
  latest().deliver({ type: 'pong', resumeToken: 'token-3' });

  // The socket dies; the reconnect resumes with the freshest token.
  latest().drop(1006);
  assert.equal(client.state, 'reconnecting');
  mock.timers.tick(1_000); // attempt 0 waits 0.5–1 s
  assert.equal(FakeSocket.all.length, 2);
  latest().open();
  assert.deepEqual(latest().sent[0].resume, { peerId: 'peer-1', token: 'token-3' });
});

test('the token of joined and left (it names the room) is the one a resume uses', async () => {
  const client = await connected();
  const joining = client.join({ room: 'family', name: 'Ana' });
  const { rid } = latest().sentOf('join')[0];
  latest().deliver({ type: 'joined', rid, room: 'family', capacity: 4, passwordProtected: false, members: [], resumeToken: 'token-room' });
  await joining;
  latest().drop(1006);
  mock.timers.tick(1_000);
  latest().open();
  assert.deepEqual(latest().sent[0].resume, { peerId: 'peer-1', token: 'token-room' });
});

test('requestIceServers() resolves with the reply that echoes its rid', async () => {
  const client = await connected();
  const asking = client.requestIceServers();
  const { rid } = latest().sentOf('ice-servers')[0];
  latest().deliver({ type: 'ice-servers', rid, iceServers: [{ urls: ['turn:127.0.0.1:3478'] }], expireAtMs: 123 });
  assert.equal((await asking).expireAtMs, 123);
});

test('no pong within 10 s counts as a dead socket: it is abandoned and the session resumed', async () => {
  const client = await connected();
  const states = /** @type {string[]} */ ([]);
  client.on('state', (state) => states.push(state));
  mock.timers.tick(20_000);
  mock.timers.tick(9_999);
  assert.equal(client.state, 'open');
  mock.timers.tick(1);
  assert.equal(client.state, 'reconnecting');
  assert.notEqual(FakeSocket.all[0].closedWith, null, 'the silent socket is closed');

  mock.timers.tick(1_000);
  latest().open();
  latest().deliver(welcome({ resumed: true, resumeToken: 'token-9' }));
  assert.deepEqual(states, ['reconnecting', 'open']);
});

test('reconnect delays grow from 0.5 s to at most 10 s', async () => {
  const client = await connected();
  latest().drop(1006);
  for (let attempt = 0; attempt < 8; attempt++) {
    const before = FakeSocket.all.length;
    mock.timers.tick(10_000);
    assert.equal(FakeSocket.all.length, before + 1, `attempt ${attempt} happens within 10 s`);
    latest().drop(1006);
  }
  assert.equal(client.state, 'reconnecting');
  for (let attempt = 0; attempt < 10; attempt++) {
    for (const random of [0, 0.5, 0.999]) {
      const delay = backoffDelay(attempt, { random: () => random });
      assert.ok(delay >= 500 && delay <= 10_000, `attempt ${attempt}: ${delay}`);
    }
  }
  assert.ok(backoffDelay(0, { random: () => 0.999 }) <= 1_000, 'the first retry comes within 1 s');
});

test('messages sent while reconnecting are delivered after a resume, dropped after a new session', async () => {
  const client = await connected();
  latest().drop(1006);
  client.sendSdp('peer-2', { type: 'offer', sdp: 'v=0' });
  client.sendCandidate('peer-2', null);
  mock.timers.tick(1_000);
  latest().open();
  latest().deliver(welcome({ resumed: true }));
  assert.deepEqual(latest().sent.map((m) => m.type), ['hello', 'sdp', 'candidate']);

  latest().drop(1006);
  client.sendSdp('peer-2', { type: 'offer', sdp: 'v=0' });
  mock.timers.tick(2_000);
  latest().open();
  latest().deliver(welcome({ resumed: false, peerId: 'peer-new' }));
  assert.deepEqual(latest().sent.map((m) => m.type), ['hello']);
  assert.equal(client.peerId, 'peer-new');
});

test('a session taken over by another socket stops for good', async () => {
  const client = await connected();
  const closed = /** @type {string[]} */ ([]);
  client.on('closed', ({ reason }) => closed.push(reason));
  latest().drop(4001);
  assert.equal(client.state, 'closed');
  assert.deepEqual(closed, ['session-taken-over']);
  mock.timers.tick(60_000);
  assert.equal(FakeSocket.all.length, 1, 'no reconnect');
});

for (const [code, reason] of [[4003, 'room-closed'], [4004, 'session-closed']]) {
  test(`closed by the host (${code}) stops for good with reason ${reason}`, async () => {
    const client = await connected();
    const closed = /** @type {string[]} */ ([]);
    client.on('closed', ({ reason }) => closed.push(reason));
    latest().drop(code);
    assert.equal(client.state, 'closed');
    assert.deepEqual(closed, [reason]);
    mock.timers.tick(60_000);
    assert.equal(FakeSocket.all.length, 1, 'no reconnect');
  });
}

test('a draining server (1001, then refused upgrades) is retried until a restarted one resumes the session', async () => {
  const client = await connected();
  latest().drop(1001);
  assert.equal(client.state, 'reconnecting');
  // While the old process drains, every upgrade is refused (HTTP 503): the browser reports 1006.
  for (let i = 0; i < 4; i++) {
    mock.timers.tick(10_000);
    latest().drop(1006);
    assert.equal(client.state, 'reconnecting');
  }
  mock.timers.tick(10_000);
  latest().open();
  assert.deepEqual(latest().sent[0].resume?.peerId, 'peer-1');
  latest().deliver(welcome({ resumed: true }));
  assert.equal(client.state, 'open');
  assert.equal(client.peerId, 'peer-1');
});

test('close() says bye, closes the socket and rejects pending requests', async () => {
  const client = await connected();
  const joining = client.join({ room: 'family', name: 'Ana' });
  client.close();
  await assert.rejects(joining, { id: 'closed' });
  assert.equal(latest().sent.at(-1).type, 'bye');
  assert.equal(latest().closedWith, 1000);
  assert.equal(client.state, 'closed');
});

test('events of a socket that was replaced are ignored', async () => {
  const client = await connected();
  const old = latest();
  mock.timers.tick(20_000); // ping
  mock.timers.tick(10_000); // no pong: abandoned
  mock.timers.tick(1_000); // reconnect
  assert.notEqual(latest(), old);
  latest().open();
  latest().deliver(welcome({ resumed: true }));
  const messages = /** @type {any[]} */ ([]);
  client.on('message', (m) => messages.push(m));
  old.deliver({ type: 'peer-left', room: 'family', peerId: 'ghost', reason: 'left' });
  old.drop(4001);
  assert.equal(client.state, 'open');
  assert.deepEqual(messages, []);
});

test('ready(): the welcome when open, the first one while connecting, not-connected otherwise', async () => {
  const idle = new SignalingClient({ url: 'ws://test/ws', WebSocket: /** @type {any} */ (FakeSocket) });
  await assert.rejects(idle.ready(), { id: 'not-connected' });

  const connecting = idle.connect();
  const early = idle.ready();
  latest().open();
  latest().deliver(welcome());
  assert.equal(await early, await connecting, 'a caller taking over a connecting client gets the same first welcome');
  assert.equal((await idle.ready()).peerId, 'peer-1');

  // While the socket is being replaced, ready() does not wait for a reconnect of unknown length.
  latest().drop(1006);
  await assert.rejects(idle.ready(), { id: 'not-connected' });
  idle.close();
  await assert.rejects(idle.ready(), { id: 'not-connected' });
});
