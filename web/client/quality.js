// Call quality reports: a small, anonymous summary of each peer connection, sent to the server when the
// connection ends (docs/signaling-protocol.md, `call-report`). The server only counts them in metrics.

import { selectedCandidates } from './stats.js';

/** @import * as P from './protocol.js' */
/** @import {PeerLink} from './peer.js' */

/** How often a connected link's getStats() is sampled. */
export const SAMPLE_INTERVAL_MS = 5_000;
/** A link that never connected counts as failed (`connect-timeout`) once it has tried this long (as PeerLink's policy). */
export const CONNECT_TIMEOUT_MS = 10_000;
/** A link that never connected and lived less than this (dropped or rebuilt at once) is not reported. */
export const MIN_REPORTED_MS = 1_000;

/**
 * What one getStats() says about the path and the media.
 * @typedef {object} StatsSample
 * @property {P.CandidateType | null} localCandidateType of the selected pair
 * @property {P.CandidateType | null} remoteCandidateType
 * @property {P.RelayProtocol | null} relayProtocol when the local candidate is a relay
 * @property {number | null} rttSeconds the selected pair's average round-trip time so far
 *   (totalRoundTripTime / responsesReceived), else its currentRoundTripTime
 * @property {number} packetsLost inbound RTP, all streams, cumulative
 * @property {number} packetsReceived
 */

const CANDIDATE_TYPES = new Set(['host', 'srflx', 'prflx', 'relay']);
const RELAY_PROTOCOLS = new Set(['udp', 'tcp', 'tls']);

/**
 * Reads an RTCStatsReport (or any Map of stats objects).
 * @param {{values(): Iterable<any>, get(id: string): any}} report
 * @returns {StatsSample}
 */
export function readStats(report) {
  let packetsLost = 0;
  let packetsReceived = 0;
  for (const stat of report.values()) {
    if (stat.type === 'inbound-rtp') {
      packetsLost += Math.max(0, stat.packetsLost ?? 0); // negative with duplicates
      packetsReceived += stat.packetsReceived ?? 0;
    }
  }
  const { pair, local, remote } = selectedCandidates(report);
  /** @type {number | null} */
  let rttSeconds = null;
  if (pair?.responsesReceived > 0 && typeof pair.totalRoundTripTime === 'number') rttSeconds = pair.totalRoundTripTime / pair.responsesReceived;
  else if (typeof pair?.currentRoundTripTime === 'number') rttSeconds = pair.currentRoundTripTime;
  const localType = candidateType(local?.candidateType);
  return {
    localCandidateType: localType,
    remoteCandidateType: candidateType(remote?.candidateType),
    relayProtocol: localType === 'relay' && RELAY_PROTOCOLS.has(local?.relayProtocol) ? local.relayProtocol : null,
    rttSeconds,
    packetsLost,
    packetsReceived,
  };
}

/** @param {unknown} type @returns {P.CandidateType | null} */
function candidateType(type) {
  return typeof type === 'string' && CANDIDATE_TYPES.has(type) ? /** @type {P.CandidateType} */ (type) : null;
}

/**
 * Builds the report. Pure: everything it needs is passed in.
 * @param {object} facts
 * @param {number} facts.durationMs from the link's creation to now
 * @param {boolean} facts.connected whether it ever reached `connected`
 * @param {boolean} facts.failed whether the restart policy gave up (link state `failed`)
 * @param {number} facts.iceRestarts restarts this side started or asked for
 * @param {StatsSample | null} facts.sample the latest sample (null: none taken)
 * @returns {P.CallReportMessage}
 */
export function buildCallReport({ durationMs, connected, failed, iceRestarts, sample }) {
  /** @type {P.CallReportMessage} */
  const report = {
    type: 'call-report',
    durationMs: Math.min(86_400_000, Math.max(0, Math.round(durationMs))),
    connected,
    iceRestarts: Math.min(1000, iceRestarts),
  };
  if (sample?.localCandidateType) report.localCandidateType = sample.localCandidateType;
  if (sample?.remoteCandidateType) report.remoteCandidateType = sample.remoteCandidateType;
  if (sample?.relayProtocol) report.relayProtocol = sample.relayProtocol;
  if (sample?.rttSeconds != null) report.rttMs = Math.min(60_000, Math.round(sample.rttSeconds * 1000 * 10) / 10);
  const packets = (sample?.packetsLost ?? 0) + (sample?.packetsReceived ?? 0);
  if (sample && packets > 0) report.packetLoss = Math.round((sample.packetsLost / packets) * 10_000) / 10_000;
  if (failed) report.failure = 'ice-failed';
  else if (!connected && durationMs >= CONNECT_TIMEOUT_MS) report.failure = 'connect-timeout';
  return report;
}

/**
 * Watches one PeerLink: samples its getStats() when it connects and every SAMPLE_INTERVAL_MS while it is
 * connected, so that finish() can build the report synchronously — on `pagehide` there is no time to await
 * getStats(). It stops by itself when the link closes.
 */
export class LinkQuality {
  /** @type {Pick<PeerLink, 'pc' | 'state' | 'everConnected' | 'iceRestarts' | 'on'>} */ #link;
  /** @type {() => number} */ #now;
  #startedAt;
  /** @type {StatsSample | null} */ #sample = null;
  /** @type {ReturnType<typeof setInterval> | undefined} */ #timer;
  #finished = false;

  /**
   * @param {Pick<PeerLink, 'pc' | 'state' | 'everConnected' | 'iceRestarts' | 'on'>} link
   * @param {{now?: () => number, intervalMs?: number}} [options]
   */
  constructor(link, { now = () => performance.now(), intervalMs = SAMPLE_INTERVAL_MS } = {}) {
    this.#link = link;
    this.#now = now;
    this.#startedAt = now();
    link.on('state', (state) => {
      if (state === 'connected') this.sample();
      if (state === 'closed') this.#stop();
    });
    this.#timer = setInterval(() => { if (this.#link.state === 'connected') this.sample(); }, intervalMs);
  }

  /** The latest sample, if any. */
  get lastSample() { return this.#sample; }

  /** Takes a sample now. Never rejects. */
  async sample() {
    try {
      const report = await this.#link.pc.getStats();
      if (!this.#finished) this.#sample = readStats(report);
    } catch {
      // A closed connection: keep the last sample.
    }
  }

  /**
   * Stops watching and returns the report, or null if there is nothing worth reporting (a link that never
   * connected and lived under MIN_REPORTED_MS) or it was already finished.
   * @returns {P.CallReportMessage | null}
   */
  finish() {
    if (this.#finished) return null;
    this.#finished = true;
    this.#stop();
    const durationMs = this.#now() - this.#startedAt;
    const connected = this.#link.everConnected;
    if (!connected && durationMs < MIN_REPORTED_MS && this.#link.state !== 'failed') return null;
    return buildCallReport({
      durationMs, connected, failed: this.#link.state === 'failed', iceRestarts: this.#link.iceRestarts, sample: this.#sample,
    });
  }

  #stop() {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
