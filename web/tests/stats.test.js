import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectedCandidates } from '../client/stats.js';

/** @param {any[]} stats */
const reportOf = (stats) => new Map(stats.map((s) => [s.id, s]));
const local = { id: 'L', type: 'local-candidate', candidateType: 'relay', relayProtocol: 'tcp' };
const remote = { id: 'R', type: 'remote-candidate', candidateType: 'host' };
const pair = { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', state: 'succeeded', nominated: true };

test('the selected pair is the one the transport names', () => {
  const other = { id: 'Q', type: 'candidate-pair', localCandidateId: 'R', remoteCandidateId: 'L', state: 'succeeded', nominated: true };
  const found = selectedCandidates(reportOf([local, remote, other, pair, { id: 'T', type: 'transport', selectedCandidatePairId: 'P' }]));
  assert.equal(found.pair, pair);
  assert.equal(found.local, local);
  assert.equal(found.remote, remote);
});

test('without transport stats, the nominated pair that succeeded; before any, nothing', () => {
  assert.equal(selectedCandidates(reportOf([local, remote, pair])).local, local);
  assert.deepEqual(selectedCandidates(reportOf([local, remote, { ...pair, nominated: false }])), { pair: null, local: null, remote: null });
});
