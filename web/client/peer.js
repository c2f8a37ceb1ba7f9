import { backoffDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import { selectedCandidates } from './stats.js';

/** @import * as P from './protocol.js' */

/**
 * An RTCPeerConnectionState, or `reconnecting` while an ICE restart is under way, or `failed` once the
 * restart policy gave up.
 * @typedef {RTCPeerConnectionState | 'reconnecting'} LinkState
 */

/**
 * What a PeerLink needs from signaling (a SignalingClient fits).
 * @typedef {object} LinkSignaling
 * @property {(to: string, description: P.SessionDescription) => void} sendSdp
 * @property {(to: string, candidate: RTCIceCandidateInit | null) => void} sendCandidate
 * @property {(to: string) => void} sendRestartRequest
 */

/**
 * @typedef {object} LinkEvents
 * @property {LinkState} state
 * @property {MediaStream} stream the remote stream gained or changed a track
 * @property {P.SessionDescription | null} replaced the remote peer rebuilt its RTCPeerConnection, so this
 *   link is stale: its owner should build a new one and, if given, hand it this offer
 * @property {Error} error a negotiation step failed (the link keeps going; logged by the app)
 * @property {void} not-connecting a new link is not connected after CONNECT_TIMEOUT_MS (the policy now
 *   restarts ICE), or the policy gave up (`failed`): the app may explain why (see Call's `turn-needed`)
 */

/**
 * @typedef {object} LinkOptions
 * @property {string} peerId the remote peer
 * @property {boolean} polite whether this side yields when both offer at once (from the server's `Member.polite`)
 * @property {boolean} [initiator] whether this side makes the first offer; the other side waits for it, so a
 *   new pair never collides. Default: the impolite side. The Call makes the newcomer the initiator towards
 *   the members it finds in the room (they learn of it later, from `peer-joined`, and build their side then)
 * @property {RTCIceServer[]} iceServers
 * @property {LinkSignaling} signaling
 * @property {MediaStream} localStream tracks to send (may be empty: receive-only)
 * @property {RTCIceTransportPolicy} [iceTransportPolicy] `relay` forces TURN (tests, privacy)
 * @property {() => Promise<unknown>} [beforeIceRestart] awaited (at most 2 s) before each ICE restart the
 *   policy makes or asks for: the Call fetches fresh TURN credentials there, so new allocations succeed
 * @property {typeof RTCPeerConnection} [RTCPeerConnection] replaceable in tests
 * @property {PreparedConnection} [prepared] a connection made ahead of time with the local tracks already on
 *   it: for an initiator one that made its first offer (PreparedOffer.take()), which the link sends at once;
 *   for the other side one that will answer (prepareAnswerer())
 */

/**
 * @typedef {object} PreparedConnection
 * @property {RTCPeerConnection} pc
 * @property {RTCDataChannel | null} channel the initiator's negotiated data channel
 * @property {Promise<void> | null} offered the initiator's: settles once the offer is the local description
 * @property {boolean} offerSet whether it had settled (successfully) when the connection was handed over
 */

/**
 * A summary of the link's getStats(), for diagnostics and tests.
 * @typedef {object} LinkStats
 * @property {string} peerId
 * @property {number} connectionId
 * @property {RTCPeerConnectionState} connectionState
 * @property {RTCIceConnectionState} iceConnectionState
 * @property {number} framesDecoded inbound video
 * @property {number} audioPacketsReceived inbound audio
 * @property {string | null} localCandidateType host, srflx, prflx or relay, for the selected pair
 * @property {string | null} remoteCandidateType
 * @property {string | null} relayProtocol udp, tcp or tls, when the local candidate is a relay
 * @property {number} iceRestarts restarts this side started or asked for
 */

// ICE restart policy (as Nextcloud Talk's): give a `disconnected` connection 5 s to recover on its own,
// restart at once on `failed`, at most 5 tries, each allowed this long to reach `connected`. A new link
// that is not connected after CONNECT_TIMEOUT_MS counts as failed too (an offer or all candidates lost).
const DISCONNECTED_GRACE_MS = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;
const MAX_RESTARTS = 5;
const RESTART_TIMEOUT_MS = 10_000;
const MIN_REQUEST_INTERVAL_MS = 1_000;
const BEFORE_RESTART_TIMEOUT_MS = 2_000;

let nextConnectionId = 1;

/**
 * One RTCPeerConnection to one remote peer, negotiated with the W3C "perfect negotiation" pattern:
 * either side may offer at any time; on a collision the polite side rolls back and the impolite side
 * ignores the other's offer. The first offer is always the initiator's (it always offers audio, video and
 * data), so a new pair never collides. The impolite side restarts ICE; the polite side asks it to.
 * @extends {Emitter<LinkEvents>}
 */
export class PeerLink extends Emitter {
  /** A unique id for this RTCPeerConnection, so one can tell a rebuilt link from a surviving one. */
  connectionId = nextConnectionId++;
  /** @readonly */ peerId;
  /** @readonly */ polite;
  /** Whether this side makes the first offer. @readonly */ initiator;
  /** @readonly @type {RTCPeerConnection} */ pc;
  /** Tracks received from the peer, one stream per link. @readonly */
  remoteStream = new MediaStream();
  /**
   * A negotiated data channel (id 0) that every link carries, for app messages. The initiator opens it at
   * once, so that its first offer exists even with nothing to send; the other side opens it once the first
   * exchange is done (opening it earlier would make it offer).
   * @type {RTCDataChannel | null}
   */
  channel = null;
  /** ICE restarts this side started or asked for. */
  iceRestarts = 0;
  /** Whether this side gathered a relay (TURN) candidate at least once. */
  relayGathered = false;
  /** Whether the connection was ever `connected`. */
  everConnected = false;

  /** @type {LinkSignaling} */ #signaling;
  /** @type {() => Promise<unknown>} */ #beforeIceRestart;
  #makingOffer = false;
  #ignoreOffer = false;
  #settingRemoteAnswer = false;
  /** @type {RTCIceCandidateInit[]} remote candidates that arrived before a remote description */
  #pendingCandidates = [];
  /** The SDP session id of the remote RTCPeerConnection we negotiate with, once known. */
  #remoteSessionId = '';
  /** @type {Promise<void>} incoming signaling, handled one message at a time and in order */
  #inbox = Promise.resolve();
  #restarting = false;
  #failed = false;
  #restartAttempts = 0;
  #lastRestartAt = -Infinity;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #recoveryTimer;
  /** @type {LinkState} */
  #lastState = 'new';
  /** The side that is not the initiator makes no offer until the first exchange (or its own ICE restart). */
  #awaitingFirstOffer;

  /** @param {LinkOptions} options */
  constructor(options) {
    super();
    this.peerId = options.peerId;
    this.polite = options.polite;
    this.initiator = options.initiator ?? !options.polite;
    this.#awaitingFirstOffer = !this.initiator;
    this.#signaling = options.signaling;
    this.#beforeIceRestart = options.beforeIceRestart ?? (() => Promise.resolve());
    const Connection = options.RTCPeerConnection ?? RTCPeerConnection;
    /** @type {RTCConfiguration} */
    const configuration = { iceServers: options.iceServers };
    if (options.iceTransportPolicy) configuration.iceTransportPolicy = options.iceTransportPolicy;
    const prepared = options.prepared;
    this.pc = prepared?.pc ?? new Connection(configuration);
    if (prepared?.channel) this.channel = prepared.channel;
    else if (this.initiator) this.#openChannel();

    this.pc.onnegotiationneeded = () => {
      // Only the initiator makes the first offer. Were the other side to offer too, one of them would roll its
      // offer back, and Chromium 156 then sometimes gathers no ICE candidates for its answer, or (when that
      // offer held only a data section) renegotiates forever.
      if (this.#awaitingFirstOffer) return;
      this.#offer();
    };
    this.pc.onicecandidate = ({ candidate }) => {
      if (candidate?.type === 'relay') this.relayGathered = true;
      this.#signaling.sendCandidate(this.peerId, candidate ? candidate.toJSON() : null);
    };
    this.pc.ontrack = ({ track }) => this.#addRemoteTrack(track);
    this.pc.onconnectionstatechange = () => this.#connectionStateChanged();
    this.pc.onsignalingstatechange = () => this.#signalingStateChanged();

    if (!prepared) addLocalTracks(this.pc, options.localStream, this.initiator);
    this.#scheduleRecovery(CONNECT_TIMEOUT_MS);
    // Offer now rather than on `negotiationneeded`: that event waits for a task of its own, behind whatever
    // the page is busy with (rendering the call view) — often tens of milliseconds of call setup. Chromium
    // then skips the event, since the offer covers everything.
    // A prepared offer that is ready goes out in this very task, before the app reacts to the new member.
    if (prepared?.offerSet) this.#sendLocalDescription();
    else if (this.initiator) this.#offer(prepared?.offered ?? undefined);
  }

  /** @returns {LinkState} */
  get state() {
    if (this.#failed && this.pc.connectionState !== 'connected') return 'failed';
    if (this.#restarting && this.pc.connectionState !== 'closed') return 'reconnecting';
    return this.pc.connectionState;
  }

  /**
   * Handles an `sdp` from the peer.
   * @param {P.SessionDescription} description
   */
  receiveDescription(description) {
    // Decided here, not in the queue, so that the candidates following this offer reach the new link.
    if (this.#comesFromAnotherConnection(description)) {
      this.emit('replaced', description.type === 'offer' ? description : null);
      return;
    }
    this.#enqueue(() => this.#handleDescription(description));
  }

  /**
   * Handles a `candidate` from the peer.
   * @param {RTCIceCandidateInit | null} candidate
   */
  receiveCandidate(candidate) {
    this.#enqueue(() => this.#handleCandidate(candidate));
  }

  /** The peer asked us (the impolite side) to restart ICE. */
  receiveRestartRequest() {
    if (this.polite) return;
    if (performance.now() - this.#lastRestartAt < MIN_REQUEST_INTERVAL_MS) return;
    this.#lastRestartAt = performance.now();
    this.#prepareRestart().then(() => this.#restartIce());
  }

  /**
   * Sends `track` instead of whatever this link sends for its kind. Uses replaceTrack on an existing
   * sender, so switching devices needs no renegotiation; only starting to send a kind that was never sent
   * (a receive-only join turning its camera on) renegotiates.
   * @param {'audio' | 'video'} kind
   * @param {MediaStreamTrack | null} track
   * @param {MediaStream} stream the local stream the track belongs to
   */
  async setLocalTrack(kind, track, stream) {
    const transceiver = this.#transceiverFor(kind);
    if (!transceiver) {
      if (track) this.pc.addTrack(track, stream);
      return;
    }
    await transceiver.sender.replaceTrack(track);
    if (!track) return;
    if (transceiver.direction === 'recvonly') transceiver.direction = 'sendrecv';
    else if (transceiver.direction === 'inactive') transceiver.direction = 'sendonly';
  }

  /** Uses new ICE servers (fresh TURN credentials) from the next ICE gathering on. @param {RTCIceServer[]} iceServers */
  setIceServers(iceServers) {
    this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
  }

  /**
   * Restarts ICE now, whatever the restart policy says: the impolite side restarts, the polite side asks.
   * Fresh ICE servers are fetched first (see `beforeIceRestart`). Normally the policy does this by
   * itself; a "reconnect" button may call it.
   */
  async restartIce() {
    await this.#prepareRestart();
    if (this.pc.signalingState === 'closed') return;
    if (this.polite) {
      this.iceRestarts++;
      this.#signaling.sendRestartRequest(this.peerId);
    } else {
      this.#restartIce();
    }
  }

  /**
   * Restarts ICE from this side whatever its role. Both sides may do so at once: perfect negotiation
   * resolves the collision. For tests and diagnostics; the restart policy never needs it.
   */
  forceRestartIce() {
    this.#restartIce();
  }

  /** Sends the pending offer again: called after a signaling reconnect, in case the first copy was lost. */
  resendPendingOffer() {
    const local = this.pc.localDescription;
    if (this.pc.signalingState === 'have-local-offer' && local)
      this.#signaling.sendSdp(this.peerId, { type: 'offer', sdp: local.sdp });
  }

  /** @returns {Promise<LinkStats>} */
  async stats() {
    const report = await this.pc.getStats();
    let framesDecoded = 0;
    let audioPacketsReceived = 0;
    for (const stat of /** @type {Iterable<any>} */ (report.values())) {
      if (stat.type === 'inbound-rtp' && stat.kind === 'video') framesDecoded += stat.framesDecoded ?? 0;
      if (stat.type === 'inbound-rtp' && stat.kind === 'audio') audioPacketsReceived += stat.packetsReceived ?? 0;
    }
    const { local, remote } = selectedCandidates(report);
    return {
      peerId: this.peerId,
      connectionId: this.connectionId,
      connectionState: this.pc.connectionState,
      iceConnectionState: this.pc.iceConnectionState,
      framesDecoded,
      audioPacketsReceived,
      localCandidateType: local?.candidateType ?? null,
      remoteCandidateType: remote?.candidateType ?? null,
      relayProtocol: local?.candidateType === 'relay' ? (local.relayProtocol ?? null) : null,
      iceRestarts: this.iceRestarts,
    };
  }

  /** Closes the peer connection for good. */
  close() {
    clearTimeout(this.#recoveryTimer);
    this.#restarting = false;
    this.pc.onnegotiationneeded = this.pc.onicecandidate = this.pc.ontrack = null;
    this.pc.onconnectionstatechange = this.pc.onsignalingstatechange = null;
    this.pc.close();
    this.#emitStateIfChanged();
  }

  // ---- negotiation ----

  /** @param {Promise<void>} [made] a prepared connection's offer, set (or being set) already */
  async #offer(made) {
    try {
      this.#makingOffer = true;
      if (made) await made;
      // A prepared offer that failed (rare) is made again here.
      if (!made || this.pc.signalingState !== 'have-local-offer') await this.pc.setLocalDescription();
      // A prepared offer's candidates gathered so far are in the description; later ones trickle.
      this.#sendLocalDescription();
    } catch (error) {
      this.#reportError('could not make an offer', error);
    } finally {
      this.#makingOffer = false;
    }
  }

  /** @param {P.SessionDescription} description */
  async #handleDescription(description) {
    const readyForOffer = !this.#makingOffer && (this.pc.signalingState === 'stable' || this.#settingRemoteAnswer);
    const offerCollision = description.type === 'offer' && !readyForOffer;
    this.#ignoreOffer = !this.polite && offerCollision;
    if (this.#ignoreOffer) return;

    try {
      this.#settingRemoteAnswer = description.type === 'answer';
      // The polite side's colliding offer is rolled back implicitly here.
      await this.pc.setRemoteDescription(description);
    } catch (error) {
      // A stale answer (e.g. sent twice across a signaling reconnect) lands in `stable`: harmless.
      if (!(description.type === 'answer' && this.pc.signalingState === 'stable'))
        this.#reportError(`could not apply the remote ${description.type}`, error);
      return;
    } finally {
      this.#settingRemoteAnswer = false;
    }
    if (description.type === 'offer') {
      try {
        // The answer goes out before it is applied: the peer's setRemoteDescription then runs while our
        // setLocalDescription does (each takes tens of ms). Nothing can change the state in between: this is
        // the inbox's only step, and negotiationneeded waits for `stable`.
        const answer = await this.pc.createAnswer();
        this.#signaling.sendSdp(this.peerId, { type: 'answer', sdp: answer.sdp ?? '' });
        await this.pc.setLocalDescription(answer);
      } catch (error) {
        this.#reportError('could not answer', error);
      }
    }
    await this.#flushPendingCandidates();
  }

  /** @param {RTCIceCandidateInit | null} candidate */
  async #handleCandidate(candidate) {
    // End-of-candidates needs no action: Chromium and Firefox finish checks without it.
    if (candidate === null) return;
    if (!this.pc.remoteDescription) {
      this.#pendingCandidates.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      // Candidates of an offer we ignored, or of an older ICE generation, are expected to fail.
      if (!this.#ignoreOffer) this.#reportError('could not add a remote candidate', error);
    }
  }

  async #flushPendingCandidates() {
    const candidates = this.#pendingCandidates;
    this.#pendingCandidates = [];
    for (const candidate of candidates) {
      // Some belong to an offer that was rolled back or ignored: failing them is fine.
      await this.pc.addIceCandidate(candidate).catch(() => {});
    }
  }

  #sendLocalDescription() {
    const local = this.pc.localDescription;
    if (local && (local.type === 'offer' || local.type === 'answer'))
      this.#signaling.sendSdp(this.peerId, { type: local.type, sdp: local.sdp });
  }

  /**
   * A description from a different RTCPeerConnection than the one we negotiated with: the SDP origin's
   * session id stays the same for the life of a connection (RFC 8866 §5.2), so a new one means the peer
   * rebuilt its side (e.g. it dropped us while we were away, and answered our ICE restart from a new one).
   * @param {P.SessionDescription} description
   */
  #comesFromAnotherConnection(description) {
    const sessionId = sessionIdOf(description.sdp);
    if (!this.#remoteSessionId) this.#remoteSessionId = sessionId;
    return sessionId !== this.#remoteSessionId;
  }

  #openChannel() {
    this.channel = this.pc.createDataChannel('parley', { negotiated: true, id: 0 });
  }

  #signalingStateChanged() {
    if (this.pc.signalingState !== 'stable' || !this.pc.remoteDescription) return;
    if (!this.channel && this.pc.remoteDescription.sdp.includes('m=application')) this.#openChannel();
    if (!this.#awaitingFirstOffer) return;
    this.#awaitingFirstOffer = false;
    // This side skipped its negotiationneeded until now; offer if the answer left anything out.
    if (this.#hasUnnegotiatedMedia()) this.#offer();
  }

  /** A transceiver never negotiated, or one with a track to send that the last exchange left receive-only. */
  #hasUnnegotiatedMedia() {
    return this.pc.getTransceivers().some((t) =>
      t.currentDirection !== 'stopped'
      && (t.mid === null || (t.sender.track !== null && (t.currentDirection === 'recvonly' || t.currentDirection === 'inactive'))));
  }

  /** @param {() => Promise<void>} step */
  #enqueue(step) {
    this.#inbox = this.#inbox.then(step, step);
  }

  // ---- media ----

  /** @param {'audio' | 'video'} kind */
  #transceiverFor(kind) {
    const ofKind = this.pc.getTransceivers().filter((t) => t.receiver.track.kind === kind && t.currentDirection !== 'stopped');
    return ofKind.find((t) => t.sender.track) ?? ofKind[0];
  }

  /** @param {MediaStreamTrack} track */
  #addRemoteTrack(track) {
    for (const old of this.remoteStream.getTracks())
      if (old.kind === track.kind && old !== track) this.remoteStream.removeTrack(old);
    if (!this.remoteStream.getTracks().includes(track)) this.remoteStream.addTrack(track);
    this.emit('stream', this.remoteStream);
  }

  // ---- ICE restart policy ----

  #connectionStateChanged() {
    const state = this.pc.connectionState;
    if (state === 'connected') {
      this.everConnected = true;
      clearTimeout(this.#recoveryTimer);
      this.#recoveryTimer = undefined;
      this.#restarting = false;
      this.#failed = false;
      this.#restartAttempts = 0;
    } else if (state === 'disconnected' && !this.#restarting) {
      this.#scheduleRecovery(DISCONNECTED_GRACE_MS);
    } else if (state === 'failed') {
      this.#scheduleRecovery(this.#restarting ? backoffDelay(this.#restartAttempts, { minMs: 1_000 }) : 0);
    }
    this.#emitStateIfChanged();
  }

  /** @param {number} delayMs */
  #scheduleRecovery(delayMs) {
    clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = setTimeout(() => this.#recover(), delayMs);
  }

  /** One try of the policy: restart (or ask for one), then check back later. */
  #recover() {
    this.#recoveryTimer = undefined;
    if (this.pc.connectionState === 'connected' || this.pc.connectionState === 'closed') return;
    if (this.#restartAttempts >= MAX_RESTARTS) {
      this.#restarting = false;
      this.#failed = true;
      this.#emitStateIfChanged();
      this.emit('not-connecting', undefined);
      return;
    }
    if (!this.everConnected) this.emit('not-connecting', undefined);
    this.#restartAttempts++;
    this.#restarting = true;
    // An offer still unanswered was probably lost: send it again (a restart would wait for `stable`).
    if (this.pc.signalingState === 'have-local-offer') this.resendPendingOffer();
    else this.restartIce();
    this.#emitStateIfChanged();
    this.#scheduleRecovery(RESTART_TIMEOUT_MS + backoffDelay(this.#restartAttempts));
  }

  /** Runs `beforeIceRestart`, giving up waiting after a while: a restart must not hang on signaling. */
  #prepareRestart() {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, BEFORE_RESTART_TIMEOUT_MS);
      this.#beforeIceRestart().catch(() => {}).finally(() => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  #restartIce() {
    if (this.pc.signalingState === 'closed') return;
    // No first offer came (lost, or the peer's side is gone): the restart's offer starts the pair instead.
    this.#awaitingFirstOffer = false;
    this.iceRestarts++;
    this.#lastRestartAt = performance.now();
    this.pc.restartIce();
  }

  #emitStateIfChanged() {
    const state = this.state;
    if (state === this.#lastState) return;
    this.#lastState = state;
    this.emit('state', state);
  }

  /** @param {string} what @param {unknown} error */
  #reportError(what, error) {
    const message = error instanceof Error ? error.message : String(error);
    this.emit('error', new Error(`${what} (peer ${this.peerId}): ${message}`, { cause: error }));
  }
}

/**
 * Puts the stream's audio and video tracks on a new connection, in that order. Only the initiator adds a
 * receive-only transceiver for a kind the stream lacks, so the two sides never both create one.
 * @param {RTCPeerConnection} pc
 * @param {MediaStream} stream
 * @param {boolean} initiator
 */
export function addLocalTracks(pc, stream, initiator) {
  for (const kind of /** @type {const} */ (['audio', 'video'])) {
    const track = stream.getTracks().find((t) => t.kind === kind);
    if (track) pc.addTrack(track, stream);
    else if (initiator) pc.addTransceiver(kind, { direction: 'recvonly' });
  }
}

/**
 * The session id from an SDP's origin line (`o=<user> <sess-id> <sess-version> …`).
 * @param {string} sdp
 */
export function sessionIdOf(sdp) {
  return /^o=\S+ (\S+) /m.exec(sdp)?.[1] ?? '';
}
