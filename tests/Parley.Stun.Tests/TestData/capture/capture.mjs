// Captures the STUN/TURN datagrams that headless Chromium sends to a STUN/TURN server on 127.0.0.1.
// Run it inside a loopback-only network namespace; see ../README.md for the exact command.
//
// The listener is a deliberately tiny TURN "server": it answers Binding, challenges the first Allocate
// with 401 (REALM + NONCE), accepts the authenticated retry and relays between the two allocations so
// that Chromium goes on to send CreatePermission, Send indications, ChannelBind and ChannelData.
// Every datagram Chromium sends is saved verbatim as out/<nnn>-<kind>.bin; nothing is rewritten.
import dgram from 'node:dgram';
import http from 'node:http';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(process.env.PLAYWRIGHT_CORE_DIR ? `${process.env.PLAYWRIGHT_CORE_DIR}/` : import.meta.url);
const { chromium } = require('playwright-core');

const OUT = process.argv[2] ?? 'out';
const PORT = 3478;
const REALM = 'parley.test';
const NONCE = '0123456789abcdef';
const USERNAME = '1700000000:alice';
const PASSWORD = 'x';
const COOKIE = 0x2112a442;
const KEY = crypto.createHash('md5').update(`${USERNAME}:${REALM}:${PASSWORD}`).digest();

fs.mkdirSync(OUT, { recursive: true });

const METHODS = { 1: 'binding', 3: 'allocate', 4: 'refresh', 6: 'send', 7: 'data', 8: 'createpermission', 9: 'channelbind' };
const CLASSES = ['request', 'indication', 'success', 'error'];
const method = (t) => (t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2);
const klass = (t) => ((t >> 7) & 2) | ((t >> 4) & 1);
const type = (m, c) => ((m & 0xf80) << 2) | ((m & 0x070) << 1) | (m & 0x00f) | ((c & 2) << 7) | ((c & 1) << 4);

function attributes(msg) {
  const list = [];
  for (let o = 20; o + 4 <= msg.length;) {
    const t = msg.readUInt16BE(o), l = msg.readUInt16BE(o + 2);
    list.push({ type: t, value: msg.subarray(o + 4, o + 4 + l) });
    o += 4 + ((l + 3) & ~3);
  }
  return list;
}

function xorAddress(txid, host, port) {
  const v = Buffer.alloc(8);
  v[1] = 1;
  v.writeUInt16BE(port ^ (COOKIE >>> 16), 2);
  host.split('.').forEach((b, i) => { v[4 + i] = Number(b) ^ ((COOKIE >>> (24 - 8 * i)) & 0xff); });
  return v;
}

function unxorAddress(v) {
  const port = v.readUInt16BE(2) ^ (COOKIE >>> 16);
  const host = [0, 1, 2, 3].map((i) => v[4 + i] ^ ((COOKIE >>> (24 - 8 * i)) & 0xff)).join('.');
  return `${host}:${port}`;
}

function build(t, txid, attrs, { integrity = false, fingerprint = true } = {}) {
  const parts = [];
  for (const [at, value] of attrs) {
    const h = Buffer.alloc(4); h.writeUInt16BE(at, 0); h.writeUInt16BE(value.length, 2);
    parts.push(h, value, Buffer.alloc((4 - (value.length % 4)) % 4));
  }
  let body = Buffer.concat(parts);
  const header = (len) => { const h = Buffer.alloc(20); h.writeUInt16BE(t, 0); h.writeUInt16BE(len, 2); h.writeUInt32BE(COOKIE, 4); txid.copy(h, 8); return h; };
  if (integrity) {
    const mac = crypto.createHmac('sha1', KEY).update(Buffer.concat([header(body.length + 24), body])).digest();
    body = Buffer.concat([body, Buffer.from([0x00, 0x08, 0x00, 0x14]), mac]);
  }
  if (fingerprint) {
    const crc = (zlib.crc32(Buffer.concat([header(body.length + 8), body])) ^ 0x5354554e) >>> 0;
    const fp = Buffer.alloc(8); fp.writeUInt16BE(0x8028, 0); fp.writeUInt16BE(4, 2); fp.writeUInt32BE(crc, 4);
    body = Buffer.concat([body, fp]);
  }
  return Buffer.concat([header(body.length), body]);
}

const server = dgram.createSocket('udp4');
let count = 0;
const allocations = new Map(); // client "ip:port" -> { relayPort, channels: Map<number, peer>, peers: Map<peer, number> }
const byRelay = new Map();     // "127.0.0.1:relayPort" -> client rinfo
let nextRelayPort = 50000;

const manifest = [];
function save(kind, msg, rinfo) {
  const name = `${String(++count).padStart(3, '0')}-${kind}.bin`;
  fs.writeFileSync(path.join(OUT, name), msg);
  manifest.push(`${name} ${msg.length} bytes from ${rinfo.address}:${rinfo.port}`);
}

function deliver(fromRelay, toPeer, data) {
  const target = byRelay.get(toPeer);
  if (!target) return;
  const alloc = allocations.get(`${target.address}:${target.port}`);
  const channel = alloc.peers.get(fromRelay);
  if (channel !== undefined) {
    const h = Buffer.alloc(4); h.writeUInt16BE(channel, 0); h.writeUInt16BE(data.length, 2);
    server.send(Buffer.concat([h, data]), target.port, target.address);
  } else {
    const [host, port] = fromRelay.split(':');
    const txid = crypto.randomBytes(12);
    server.send(build(type(7, 1), txid, [[0x0012, xorAddress(txid, host, Number(port))], [0x0013, data]], { fingerprint: false }), target.port, target.address);
  }
}

server.on('message', (msg, rinfo) => {
  const client = `${rinfo.address}:${rinfo.port}`;
  if (msg[0] >= 0x40 && msg[0] <= 0x4f) {
    save('channeldata', msg, rinfo);
    const alloc = allocations.get(client);
    const peer = alloc?.channels.get(msg.readUInt16BE(0));
    if (peer) deliver(`127.0.0.1:${alloc.relayPort}`, peer, msg.subarray(4, 4 + msg.readUInt16BE(2)));
    return;
  }
  if (msg.length < 20 || msg.readUInt32BE(4) !== COOKIE) { save('unknown', msg, rinfo); return; }
  const t = msg.readUInt16BE(0), m = method(t), c = klass(t), txid = msg.subarray(8, 20);
  const attrs = attributes(msg);
  const has = (at) => attrs.some((a) => a.type === at);
  const get = (at) => attrs.find((a) => a.type === at)?.value;
  const authenticated = has(0x0008);
  save(`${METHODS[m] ?? `method${m}`}-${CLASSES[c]}${authenticated ? '-auth' : ''}`, msg, rinfo);
  const reply = (attrsOut, opts) => server.send(build(type(m, 2), txid, attrsOut, opts), rinfo.port, rinfo.address);
  if (m === 1 && c === 0) { reply([[0x0020, xorAddress(txid, rinfo.address, rinfo.port)]]); return; }
  if (m === 6 && c === 1) { // Send indication
    const alloc = allocations.get(client);
    if (alloc) deliver(`127.0.0.1:${alloc.relayPort}`, unxorAddress(get(0x0012)), get(0x0013));
    return;
  }
  if (c !== 0) return;
  if (!authenticated) {
    const err = Buffer.concat([Buffer.from([0, 0, 4, 1]), Buffer.from('Unauthorized')]);
    server.send(build(type(m, 3), txid, [[0x0009, err], [0x0014, Buffer.from(REALM)], [0x0015, Buffer.from(NONCE)]]), rinfo.port, rinfo.address);
    return;
  }
  if (m === 3) {
    let alloc = allocations.get(client);
    if (!alloc) {
      alloc = { relayPort: nextRelayPort++, channels: new Map(), peers: new Map() };
      allocations.set(client, alloc);
      byRelay.set(`127.0.0.1:${alloc.relayPort}`, rinfo);
    }
    const lifetime = Buffer.alloc(4); lifetime.writeUInt32BE(600);
    reply([[0x0016, xorAddress(txid, '127.0.0.1', alloc.relayPort)], [0x0020, xorAddress(txid, rinfo.address, rinfo.port)], [0x000d, lifetime]], { integrity: true });
  } else if (m === 9) {
    const alloc = allocations.get(client);
    const channel = get(0x000c).readUInt16BE(0), peer = unxorAddress(get(0x0012));
    alloc?.channels.set(channel, peer); alloc?.peers.set(peer, channel);
    reply([], { integrity: true });
  } else if (m === 4) {
    const lifetime = Buffer.alloc(4); lifetime.writeUInt32BE(600);
    reply([[0x000d, lifetime]], { integrity: true });
  } else {
    reply([], { integrity: true });
  }
});

const page = `<!doctype html><meta charset="utf-8"><title>capture</title><script>
async function run() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  // 1. A Binding request to the STUN server.
  const stun = new RTCPeerConnection({ iceServers: [{ urls: 'stun:127.0.0.1:${PORT}' }] });
  stun.createDataChannel('probe');
  await stun.setLocalDescription(await stun.createOffer());
  // 2. Two relay-only peers: Allocate (401, then authenticated), CreatePermission, Send, ChannelBind, ChannelData.
  const turn = { iceServers: [{ urls: 'turn:127.0.0.1:${PORT}', username: '${USERNAME}', credential: '${PASSWORD}' }], iceTransportPolicy: 'relay' };
  const a = new RTCPeerConnection(turn), b = new RTCPeerConnection(turn);
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const dc = a.createDataChannel('chat');
  const opened = new Promise((resolve) => { dc.onopen = resolve; });
  stream.getTracks().forEach((t) => a.addTrack(t, stream));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  await Promise.race([opened, new Promise((r) => setTimeout(r, 8000))]);
  if (dc.readyState === 'open') dc.send('hello through the relay');
  await new Promise((r) => setTimeout(r, 1000));
  const ice = (pc) => { const s = pc.localDescription.sdp; return { ufrag: s.match(/a=ice-ufrag:(.*)/)[1].trim(), pwd: s.match(/a=ice-pwd:(.*)/)[1].trim() }; };
  return { stun: stun.iceGatheringState, a: a.connectionState, b: b.connectionState, dc: dc.readyState, iceA: ice(a), iceB: ice(b) };
}
</script>`;

const web = http.createServer((req, res) => { res.setHeader('content-type', 'text/html'); res.end(page); });
await new Promise((r) => server.bind(PORT, '127.0.0.1', r));
await new Promise((r) => web.listen(8080, '127.0.0.1', r));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns,OptimizationHints,NetworkTimeServiceQuerying,AimEnabled,PreconnectToSearch,MediaRouter',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage',
  ],
});
try {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  const tab = await context.newPage();
  await tab.goto('http://127.0.0.1:8080/');
  const result = await tab.evaluate('run()');
  const userAgent = await tab.evaluate('navigator.userAgent');
  console.log('result', JSON.stringify(result));
  // ICE credentials (short-term, RFC 8445 §7.2.2) let tests verify the connectivity checks carried in DATA/ChannelData.
  fs.writeFileSync(path.join(OUT, 'ice-credentials.txt'),
    `a ${result.iceA.ufrag} ${result.iceA.pwd}\nb ${result.iceB.ufrag} ${result.iceB.pwd}\n`);
  fs.writeFileSync(path.join(OUT, 'manifest.txt'), `${userAgent}\n${manifest.join('\n')}\n`);
} finally {
  await browser.close();
  server.close();
  web.close();
}
