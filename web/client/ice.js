// ICE server lists: which transport a TURN URL uses, filtering a list down to some transports, and the
// connectivity test (a relay-only loopback call inside the page) behind the app's "Test connectivity" panel.

import { selectedCandidates } from './stats.js';

/**
 * The transport between the browser and a TURN server: `udp`, `tcp`, or `tls` (a `turns:` URL).
 * @typedef {'udp' | 'tcp' | 'tls'} TurnTransport
 */

/** @type {readonly TurnTransport[]} */
export const TURN_TRANSPORTS = ['udp', 'tcp', 'tls'];

/**
 * The transport of a TURN URL (RFC 7065): `turns:` is TLS, else `?transport=tcp` is TCP, else UDP. Null for a
 * STUN URL (or anything else).
 * @param {string} url
 * @returns {TurnTransport | null}
 */
export function turnTransportOf(url) {
  const lower = url.trim().toLowerCase();
  if (lower.startsWith('turns:')) return 'tls';
  if (!lower.startsWith('turn:')) return null;
  return /[?&]transport=tcp(?:&|$)/.test(lower) ? 'tcp' : 'udp';
}

/** @param {string} url */
export function isStunUrl(url) {
  return /^stuns?:/i.test(url.trim());
}

/** @param {RTCIceServer} server @returns {string[]} */
export function urlsOf(server) {
  return typeof server.urls === 'string' ? [server.urls] : [...server.urls];
}

/** Whether any server in the list is a TURN server. @param {readonly RTCIceServer[]} iceServers */
export function hasTurn(iceServers) {
  return iceServers.some((server) => urlsOf(server).some((url) => turnTransportOf(url) !== null));
}

/**
 * Keeps only the TURN URLs that use one of `transports` (STUN URLs are kept); servers left with no URL are
 * dropped. With `transports` absent or empty the list is returned as it is.
 * @param {readonly RTCIceServer[]} iceServers
 * @param {readonly TurnTransport[] | undefined} transports
 * @returns {RTCIceServer[]}
 */
export function filterIceServers(iceServers, transports) {
  if (!transports || transports.length === 0) return [...iceServers];
  /** @type {RTCIceServer[]} */
  const kept = [];
  for (const server of iceServers) {
    const urls = urlsOf(server).filter((url) => {
      const transport = turnTransportOf(url);
      return transport === null || transports.includes(transport);
    });
    if (urls.length > 0) kept.push({ ...server, urls });
  }
  return kept;
}

/**
 * Reads the troubleshooting options from a page's query string: `policy=relay|all` and
 * `turn=udp|tcp|tls` (several with commas, `turn=udp,tcp`). Unknown values are ignored.
 * @param {string} search e.g. `location.search`
 * @returns {{iceTransportPolicy?: RTCIceTransportPolicy, iceTransports?: TurnTransport[]}}
 */
export function iceOptionsFromQuery(search) {
  const params = new URLSearchParams(search);
  /** @type {{iceTransportPolicy?: RTCIceTransportPolicy, iceTransports?: TurnTransport[]}} */
  const options = {};
  const policy = params.get('policy');
  if (policy === 'relay' || policy === 'all') options.iceTransportPolicy = policy;
  const transports = (params.get('turn') ?? '').split(',').map((s) => s.trim().toLowerCase())
    .filter((s) => /** @type {readonly string[]} */ (TURN_TRANSPORTS).includes(s));
  if (transports.length > 0) options.iceTransports = /** @type {TurnTransport[]} */ (transports);
  return options;
}

/**
 * One row of the connectivity test.
 * @typedef {object} IceTestResult
 * @property {string} url
 * @property {'turn' | 'stun'} kind
 * @property {'ok' | 'failed'} result TURN: the relay-only loopback call carried a message; STUN: a
 *   server-reflexive candidate was gathered
 * @property {TurnTransport | null} transport from the URL (TURN only)
 * @property {string | null} relayProtocol from getStats (the selected pair's local relay candidate), TURN only
 * @property {string[]} candidateTypes candidate types gathered (host, srflx, relay), sorted
 * @property {number | null} connectMs when ok: TURN, from the start to the data channel carrying a message;
 *   STUN, to the end of gathering
 * @property {string | null} error why it failed, in English (for logs and the table's tooltip)
 */

/**
 * @typedef {object} IceTestOptions
 * @property {number} [timeoutMs] per URL (default 8 s)
 * @property {typeof RTCPeerConnection} [RTCPeerConnection] replaceable in tests
 */

const DEFAULT_TEST_TIMEOUT_MS = 8_000;

/**
 * Tests every STUN and TURN URL of `iceServers`, one after another: see testTurnUrl and testStunUrl.
 * @param {readonly RTCIceServer[]} iceServers
 * @param {IceTestOptions & {onResult?: (result: IceTestResult) => void}} [options]
 * @returns {Promise<IceTestResult[]>}
 */
export async function testIceServers(iceServers, options = {}) {
  /** @type {IceTestResult[]} */
  const results = [];
  for (const server of iceServers) {
    for (const url of urlsOf(server)) {
      /** @type {IceTestResult | null} */
      let result = null;
      if (turnTransportOf(url) !== null) result = await testTurnUrl(server, url, options);
      else if (isStunUrl(url)) result = await testStunUrl(url, options);
      if (!result) continue;
      results.push(result);
      options.onResult?.(result);
    }
  }
  return results;
}

/**
 * A relay-only call between two RTCPeerConnections in this page, both restricted to this one TURN URL
 * (`iceTransportPolicy: 'relay'`), connected to each other through a data channel: proves that this
 * browser can allocate on the server with the credentials, and that the server relays between its own
 * allocations. Never rejects.
 * @param {RTCIceServer} server gives the credentials
 * @param {string} url one of its URLs
 * @param {IceTestOptions} [options]
 * @returns {Promise<IceTestResult>}
 */
export async function testTurnUrl(server, url, options = {}) {
  const Connection = options.RTCPeerConnection ?? RTCPeerConnection;
  /** @type {RTCIceServer} */
  const only = { urls: [url] };
  if (server.username !== undefined) only.username = server.username;
  if (server.credential !== undefined) only.credential = server.credential;
  /** @type {RTCConfiguration} */
  const configuration = { iceServers: [only], iceTransportPolicy: 'relay' };
  const started = performance.now();
  /** @type {Set<string>} */
  const types = new Set();
  /** @type {IceTestResult} */
  const result = {
    url, kind: 'turn', result: 'failed', transport: turnTransportOf(url), relayProtocol: null,
    candidateTypes: [], connectMs: null, error: null,
  };
  const a = new Connection(configuration);
  const b = new Connection(configuration);
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  try {
    for (const [from, to] of [[a, b], [b, a]]) {
      from.onicecandidate = ({ candidate }) => {
        if (!candidate) return;
        if (from === a && candidate.type) types.add(candidate.type);
        to.addIceCandidate(candidate).catch(() => {});
      };
    }
    const channelA = a.createDataChannel('test', { negotiated: true, id: 0 });
    const channelB = b.createDataChannel('test', { negotiated: true, id: 0 });
    const received = new Promise((resolve) => {
      channelB.onmessage = () => resolve(undefined);
      channelA.onopen = () => channelA.send('ping');
    });
    const timeoutMs = options.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS;
    const timedOut = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(types.has('relay')
        ? `no connection through the relay within ${timeoutMs} ms`
        : `no relay candidate within ${timeoutMs} ms (server unreachable, or credentials refused)`)), timeoutMs);
    });
    await Promise.race([(async () => {
      await a.setLocalDescription();
      await b.setRemoteDescription(/** @type {RTCSessionDescription} */ (a.localDescription));
      await b.setLocalDescription();
      await a.setRemoteDescription(/** @type {RTCSessionDescription} */ (b.localDescription));
      await received;
    })(), timedOut]);
    result.connectMs = Math.round(performance.now() - started);
    result.result = 'ok';
    result.relayProtocol = await selectedRelayProtocol(a);
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
    a.close();
    b.close();
  }
  result.candidateTypes = [...types].sort();
  return result;
}

/**
 * Gathers candidates with only this STUN server (and the host's own addresses). Ok when a server-reflexive
 * candidate comes back, or when gathering completes without an `icecandidateerror`: the server answered,
 * but with an address equal to a host candidate (a host not behind NAT), which the browser drops. Failed on
 * an error (e.g. 701: unreachable) or when gathering does not complete in time. Never rejects.
 * @param {string} url
 * @param {IceTestOptions} [options]
 * @returns {Promise<IceTestResult>}
 */
export async function testStunUrl(url, options = {}) {
  const Connection = options.RTCPeerConnection ?? RTCPeerConnection;
  const started = performance.now();
  const pc = new Connection({ iceServers: [{ urls: [url] }] });
  /** @type {Set<string>} */
  const types = new Set();
  /** @type {IceTestResult} */
  const result = {
    url, kind: 'stun', result: 'failed', transport: null, relayProtocol: null,
    candidateTypes: [], connectMs: null, error: null,
  };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  try {
    pc.createDataChannel('test');
    /** @type {string | null} */
    let stunError = null;
    pc.addEventListener('icecandidateerror', (event) => {
      const { errorCode, errorText } = /** @type {RTCPeerConnectionIceErrorEvent} */ (event);
      stunError = `STUN error ${errorCode}${errorText ? `: ${errorText}` : ''}`;
    });
    const timeoutMs = options.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS;
    const completed = await new Promise((resolve) => {
      pc.onicecandidate = ({ candidate }) => {
        if (!candidate) resolve(true);
        else if (candidate.type) types.add(candidate.type);
      };
      timer = setTimeout(() => resolve(false), timeoutMs);
      pc.setLocalDescription().catch((error) => {
        stunError = error instanceof Error ? error.message : String(error);
        resolve(false);
      });
    });
    if (types.has('srflx') || (completed && stunError === null)) {
      result.result = 'ok';
      result.connectMs = Math.round(performance.now() - started);
    } else result.error = stunError ?? `gathering did not complete within ${timeoutMs} ms`;
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
    pc.close();
  }
  result.candidateTypes = [...types].sort();
  return result;
}

/** The relayProtocol of the selected pair's local candidate, from getStats. @param {RTCPeerConnection} pc */
async function selectedRelayProtocol(pc) {
  return selectedCandidates(await pc.getStats()).local?.relayProtocol ?? null;
}
