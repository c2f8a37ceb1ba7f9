import { addLocalTracks } from './peer.js';

/**
 * What a prepared offer sends: which kinds get a send-and-receive transceiver (the others receive only).
 * @typedef {{audio: boolean, video: boolean}} SendKinds
 */

/**
 * @typedef {object} PreparedOfferOptions
 * @property {RTCIceServer[]} iceServers as the Call will use them (after any `iceTransports` filter)
 * @property {number} [iceServersExpireAtMs] when the TURN credentials in them expire (Unix ms; the welcome's
 *   `iceServersExpireAtMs`): the Call refuses an offer whose relays would outlive them
 * @property {MediaStream} localStream what the call will send, usually the lobby's preview: its tracks go on the
 *   connection now (nothing is sent before it connects), and the kinds it lacks are received only
 * @property {RTCIceTransportPolicy} [iceTransportPolicy]
 * @property {typeof RTCPeerConnection} [RTCPeerConnection] replaceable in tests
 */

/** An offer older than this is not used: its candidates may describe a network the device has left. */
export const PREPARED_OFFER_MAX_AGE_MS = 5 * 60_000;

/**
 * A connection for the member who joins next, made while the call is idle: the newcomer sends the first offer,
 * and building the connection that answers it (constructor and `addTrack`, synchronous calls into WebRTC) cost
 * the member's page 10–15 ms right when that offer arrived. It carries the call's tracks and nothing else (a
 * PeerLink that answers adds nothing more before the offer), gathers nothing and holds no port until used.
 * @param {{iceServers: RTCIceServer[], localStream: MediaStream, iceTransportPolicy?: RTCIceTransportPolicy,
 *   RTCPeerConnection?: typeof RTCPeerConnection}} options
 * @returns {import('./peer.js').PreparedConnection}
 */
export function prepareAnswerer(options) {
  return { pc: connectionWithTracks(options, false), channel: null, offered: null, offerSet: false };
}

/**
 * A new RTCPeerConnection with the stream's tracks on it, set up as a PeerLink sets up its own.
 * @param {{iceServers: RTCIceServer[], localStream: MediaStream, iceTransportPolicy?: RTCIceTransportPolicy,
 *   RTCPeerConnection?: typeof RTCPeerConnection}} options
 * @param {boolean} initiator
 */
function connectionWithTracks(options, initiator) {
  const Connection = options.RTCPeerConnection ?? RTCPeerConnection;
  /** @type {RTCConfiguration} */
  const configuration = { iceServers: options.iceServers };
  if (options.iceTransportPolicy) configuration.iceTransportPolicy = options.iceTransportPolicy;
  const pc = new Connection(configuration);
  addLocalTracks(pc, options.localStream, initiator);
  return pc;
}

/**
 * A newcomer's first offer, made ahead of time: an RTCPeerConnection with the transceivers and data channel
 * every link starts with, which has set its offer and gathers ICE candidates (TURN allocations included)
 * while the user is still in the lobby. Hand it to a Call (`CallOptions.prepared`): the link to the first
 * member then sends this offer, candidates included, the moment `joined` arrives, instead of building a
 * connection and an offer and gathering then. On loopback that was ~70 ms, a quarter of call setup
 * (bench/Parley.Bench.CallSetup). It says nothing to anyone until then.
 */
export class PreparedOffer {
  /** @readonly @type {RTCPeerConnection} */ pc;
  /** The negotiated data channel (id 0) every link carries. @readonly @type {RTCDataChannel} */ channel;
  /** Settles once the offer is set as the local description. @readonly @type {Promise<void>} */ offered;
  /** @readonly @type {SendKinds} */ send;
  /** @readonly */ iceServersExpireAtMs;
  /** performance.now() when it was made. @readonly */ createdAt = performance.now();
  #failed = false;
  #offerSet = false;
  #taken = false;

  /** @param {PreparedOfferOptions} options */
  constructor(options) {
    this.pc = connectionWithTracks(options, true);
    this.iceServersExpireAtMs = options.iceServersExpireAtMs;
    const stream = options.localStream;
    this.send = { audio: stream.getAudioTracks().length > 0, video: stream.getVideoTracks().length > 0 };
    this.channel = this.pc.createDataChannel('parley', { negotiated: true, id: 0 });
    this.offered = this.pc.setLocalDescription().then(() => { this.#offerSet = true; }, () => { this.#failed = true; });
  }

  /**
   * Whether it can start a link that sends `stream`: unused, not closed, its offer not failed, not too old,
   * and sending exactly the kinds `stream` has tracks of.
   * @param {MediaStream} stream
   * @param {RTCIceTransportPolicy} [iceTransportPolicy] what the Call uses
   */
  fits(stream, iceTransportPolicy) {
    if (this.#taken || this.#failed || this.pc.signalingState === 'closed') return false;
    if (performance.now() - this.createdAt > PREPARED_OFFER_MAX_AGE_MS) return false;
    if ((this.pc.getConfiguration().iceTransportPolicy ?? 'all') !== (iceTransportPolicy ?? 'all')) return false;
    return this.send.audio === stream.getAudioTracks().length > 0 && this.send.video === stream.getVideoTracks().length > 0;
  }

  /**
   * Hands the connection over (to a PeerLink), sending `stream`'s tracks: those the lobby switched to since
   * (another camera) replace the old ones. Use only after fits().
   * @param {MediaStream} stream
   * @returns {import('./peer.js').PreparedConnection}
   */
  take(stream) {
    this.#taken = true;
    for (const { sender } of this.pc.getTransceivers()) {
      const track = sender.track && stream.getTracks().find((t) => t.kind === sender.track?.kind);
      // The offer stays as it is (no renegotiation), so nothing needs to wait for this.
      if (track && track !== sender.track) sender.replaceTrack(track).catch(() => {});
    }
    return { pc: this.pc, channel: this.channel, offered: this.offered, offerSet: this.#offerSet };
  }

  /** Frees it (and its TURN allocations) unless a link took it. */
  close() {
    if (!this.#taken) this.pc.close();
  }
}
