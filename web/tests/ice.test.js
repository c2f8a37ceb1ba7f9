// Unit tests of the ICE server helpers: TURN URL transports, the transport filter, the troubleshooting query.
// Run: node --test web/tests/   (Node 20+, no dependencies)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterIceServers, hasTurn, iceOptionsFromQuery, isStunUrl, turnTransportOf } from '../client/ice.js';

const servers = [
  { urls: ['stun:example.org:3478'] },
  {
    urls: ['turn:example.org:3478?transport=udp', 'turn:example.org:3478?transport=tcp', 'turns:example.org:5349?transport=tcp'],
    username: '1700000000:peer', credential: 'secret',
  },
];

test('the transport of a TURN URL follows RFC 7065; STUN URLs have none', () => {
  assert.equal(turnTransportOf('turn:h:3478'), 'udp');
  assert.equal(turnTransportOf('turn:h:3478?transport=udp'), 'udp');
  assert.equal(turnTransportOf('TURN:h:3478?transport=TCP'), 'tcp');
  assert.equal(turnTransportOf('turns:h:5349?transport=tcp'), 'tls');
  assert.equal(turnTransportOf('turns:h:5349'), 'tls');
  assert.equal(turnTransportOf('stun:h:3478'), null);
  assert.equal(isStunUrl('stuns:h:5349'), true);
  assert.equal(isStunUrl('turn:h:3478'), false);
});

test('the filter keeps STUN and the TURN URLs of the chosen transports, with their credentials', () => {
  assert.deepEqual(filterIceServers(servers, ['tcp']), [
    { urls: ['stun:example.org:3478'] },
    { urls: ['turn:example.org:3478?transport=tcp'], username: '1700000000:peer', credential: 'secret' },
  ]);
  assert.deepEqual(filterIceServers(servers, ['udp', 'tls'])[1].urls,
    ['turn:example.org:3478?transport=udp', 'turns:example.org:5349?transport=tcp']);
});

test('a server left without URLs is dropped; no filter keeps everything', () => {
  const turnOnly = [{ urls: 'turn:h:3478', username: 'u', credential: 'c' }];
  assert.deepEqual(filterIceServers(turnOnly, ['tcp']), []);
  assert.deepEqual(filterIceServers(servers, undefined), servers);
  assert.deepEqual(filterIceServers(servers, []), servers);
});

test('hasTurn looks for a TURN URL', () => {
  assert.equal(hasTurn(servers), true);
  assert.equal(hasTurn([{ urls: 'stun:h:3478' }]), false);
  assert.equal(hasTurn([]), false);
});

test('the troubleshooting query: policy and TURN transports; unknown values ignored', () => {
  assert.deepEqual(iceOptionsFromQuery('?policy=relay&turn=tcp'), { iceTransportPolicy: 'relay', iceTransports: ['tcp'] });
  assert.deepEqual(iceOptionsFromQuery('?turn=udp,TLS'), { iceTransports: ['udp', 'tls'] });
  assert.deepEqual(iceOptionsFromQuery('?policy=nope&turn=sctp'), {});
  assert.deepEqual(iceOptionsFromQuery(''), {});
});
