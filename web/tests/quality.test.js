// Unit tests of the call quality reports: reading getStats, building the report, sampling a link, and the
// Call sending one report per peer connection before `bye` or when a member leaves.
// Run: node --test web/tests/   (Node 20+, no dependencies)
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { Call } from '../client/call.js';
import { Emitter } from '../client/emitter.js';
import { LinkQuality, buildCallReport, readStats } from '../client/quality.js';
import { FakeSocket, installBrowserFakes, pcOf } from './fakes.js';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A getStats() report as Chromium gives it, reduced to what matters. */
const chromiumStats = () => new Map(Object.entries({
  T: { type: 'transport', selectedCandidatePairId: 'P' },
  P: { type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: 0.09, totalRoundTripTime: 0.5, responsesReceived: 10 },
  L: { type: 'local-candidate', candidateType: 'relay', relayProtocol: 'tcp', address: '203.0.113.7' },
  R: { type: 'remote-candidate', candidateType: 'srflx', address: '198.51.100.9' },
  A: { type: 'inbound-rtp', kind: 'audio', packetsLost: 3, packetsReceived: 997 },
  V: { type: 'inbound-rtp', kind: 'video', packetsLost: -1, packetsReceived: 1000 },
  O: { type: 'outbound-rtp', kind: 'video', packetsSent: 5000 },
}));

test('readStats takes the selected pair, its average RTT and the inbound loss', () => {
  assert.deepEqual(readStats(chromiumStats()), {
    localCandidateType: 'relay', remoteCandidateType: 'srflx', relayProtocol: 'tcp', rttSeconds: 0.05, packetsLost: 3, packetsReceived: 1997,
  });
});

test('readStats without a selected pair knows nothing of the path; unknown candidate types are dropped', () => {
  assert.deepEqual(readStats(new Map()), {
    localCandidateType: null, remoteCandidateType: null, relayProtocol: null, rttSeconds: null, packetsLost: 0, packetsReceived: 0,
  });
  const odd = new Map(Object.entries({
    T: { type: 'transport', selectedCandidatePairId: 'P' },
    P: { type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: 0.002 },
    L: { type: 'local-candidate', candidateType: 'host', relayProtocol: 'udp' },
    R: { type: 'remote-candidate', candidateType: 'mystery' },
  }));
  assert.deepEqual(readStats(odd), {
    localCandidateType: 'host', remoteCandidateType: null, relayProtocol: null, rttSeconds: 0.002, packetsLost: 0, packetsReceived: 0,
  });
});

test('buildCallReport: fields, rounding, limits and the failure reasons', () => {
  const sample = readStats(chromiumStats());
  assert.deepEqual(buildCallReport({ durationMs: 61_234.6, connected: true, failed: false, iceRestarts: 1, sample }), {
    type: 'call-report', durationMs: 61_235, connected: true, iceRestarts: 1,
    localCandidateType: 'relay', remoteCandidateType: 'srflx', relayProtocol: 'tcp', rttMs: 50, packetLoss: 0.0015,
  });
  assert.deepEqual(buildCallReport({ durationMs: 30_000, connected: false, failed: true, iceRestarts: 5000, sample: null }),
    { type: 'call-report', durationMs: 30_000, connected: false, iceRestarts: 1000, failure: 'ice-failed' });
  assert.equal(buildCallReport({ durationMs: 10_000, connected: false, failed: false, iceRestarts: 0, sample: null }).failure, 'connect-timeout');
  assert.equal(buildCallReport({ durationMs: 9_999, connected: false, failed: false, iceRestarts: 0, sample: null }).failure, undefined);
  assert.equal(buildCallReport({ durationMs: 1e12, connected: true, failed: false, iceRestarts: 0, sample: null }).durationMs, 86_400_000);
});

/** A PeerLink stand-in: state events and a stats report. */
class FakeLink extends Emitter {
  state = /** @type {any} */ ('new');
  everConnected = false;
  iceRestarts = 0;
  stats = new Map();
  pc = /** @type {any} */ ({ getStats: async () => this.stats });
  /** @param {any} state */
  set(state) {
    this.state = state;
    if (state === 'connected') this.everConnected = true;
    this.emit('state', state);
  }
}

test('LinkQuality samples on connect and builds the report synchronously at the end, once', async () => {
  let now = 1000;
  const link = new FakeLink();
  const quality = new LinkQuality(/** @type {any} */ (link), { now: () => now, intervalMs: 1e9 });
  link.stats = chromiumStats();
  link.set('connected');
  await settle();
  link.iceRestarts = 2;
  now += 45_000;

  const report = quality.finish();
  assert.equal(report?.durationMs, 45_000);
  assert.equal(report?.connected, true);
  assert.equal(report?.iceRestarts, 2);
  assert.equal(report?.localCandidateType, 'relay');
  assert.equal(report?.failure, undefined);
  assert.equal(quality.finish(), null, 'one report per link');
});

test('LinkQuality: a failed link reports ice-failed; one dropped at once is not reported', () => {
  let now = 0;
  const failed = new FakeLink();
  const failedQuality = new LinkQuality(/** @type {any} */ (failed), { now: () => now, intervalMs: 1e9 });
  const brief = new LinkQuality(/** @type {any} */ (new FakeLink()), { now: () => now, intervalMs: 1e9 });
  now = 500;
  assert.equal(brief.finish(), null);
  now = 70_000;
  failed.set('failed');
  assert.equal(failedQuality.finish()?.failure, 'ice-failed');
});

// ---- the Call sends them ----

const socket = () => /** @type {FakeSocket} */ (FakeSocket.all.at(-1));

/** @param {string[]} members */
async function joinedCall(members) {
  const call = new Call({ url: 'ws://test/ws', room: 'family', name: 'Ana' });
  const joining = call.join();
  socket().open();
  socket().deliver({
    type: 'welcome', protocol: 1, peerId: 'peer-1', resumeToken: 't', resumed: false, iceServers: [],
    heartbeatIntervalMs: 1_000_000, heartbeatTimeoutMs: 1_000_000, resumeGraceMs: 30_000,
    limits: { maxMessageBytes: 65536, messagesPerSecond: 50, maxNameLength: 64, maxRoomLength: 64, maxRoomCapacity: 4 },
  });
  await settle();
  const { rid } = socket().sentOf('join')[0];
  socket().deliver({
    type: 'joined', rid, room: 'family', capacity: 4, passwordProtected: false,
    members: members.map((peerId) => ({ peerId, name: peerId, polite: false, audio: false, video: false, away: false })),
  });
  await joining;
  return call;
}

beforeEach(installBrowserFakes);
afterEach(() => mock.timers.reset());

test('hanging up sends one call report per peer connection, before bye, naming nobody', async () => {
  const call = await joinedCall(['bo', 'cy']);
  for (const peerId of ['bo', 'cy']) {
    pcOf(call, peerId).selectedLocalType = 'host';
    pcOf(call, peerId).setState('connected');
  }
  await settle();

  call.hangUp();

  const types = socket().sent.map((m) => m.type);
  assert.deepEqual(types.slice(-3), ['call-report', 'call-report', 'bye']);
  for (const report of socket().sentOf('call-report')) {
    assert.equal(report.connected, true);
    assert.equal(report.localCandidateType, 'host');
    assert.equal(report.remoteCandidateType, 'host');
    assert.ok(!JSON.stringify(report).includes('bo') && !JSON.stringify(report).includes('family'));
  }
});

test('a member leaving gets its link reported at once; nothing more at hang-up', async () => {
  const call = await joinedCall(['bo']);
  pcOf(call, 'bo').setState('connected');
  await settle();

  socket().deliver({ type: 'peer-left', room: 'family', peerId: 'bo', reason: 'left' });
  assert.equal(socket().sentOf('call-report').length, 1);
  call.hangUp();
  assert.equal(socket().sentOf('call-report').length, 1);
});
