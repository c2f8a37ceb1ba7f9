import { Emitter } from './emitter.js';
import { filterIceServers, hasTurn } from './ice.js';
import { PeerLink } from './peer.js';
import { prepareAnswerer } from './prepared.js';
/** @import {PreparedOffer} from './prepared.js' */
/** @import {PreparedConnection} from './peer.js' */
import { LinkQuality } from './quality.js';
import { SignalingError } from './protocol.js';
import { SignalingClient } from './signaling.js';

/** @import * as P from './protocol.js' */
/** @import {LinkState, LinkStats} from './peer.js' */
/** @import {SignalingState} from './signaling.js' */
/** @import {TurnTransport} from './ice.js' */

/**
 * How a remote participant's connection looks to the user: the link's state, or `reconnecting` while an
 * ICE restart runs, or while the peer (or we) lost signaling and media is not flowing.
 * @typedef {LinkState} PeerState
 */

/**
 * @typedef {object} CallEvents
 * @property {P.Member} member-joined someone is in the room (also fired for everyone present on join)
 * @property {P.Member} member-updated name, media state (`audio`/`video`) or `away` changed
 * @property {{peerId: string, reason: P.LeaveReason}} member-left
 * @property {{peerId: string, state: PeerState}} peer-state
 * @property {{peerId: string, stream: MediaStream}} remote-stream the peer's stream gained a track,
 *   or its connection was rebuilt with a new stream
 * @property {SignalingState} signaling-state
 * @property {{peerId: string}} session-changed after a lost session, we rejoined with a new peer id
 * @property {{reason: string, error?: Error}} closed the call is over (hang-up, page hidden, rejoin refused, …)
 * @property {Error} error a problem that did not end the call (logged by the app)
 * @property {{peerId: string}} turn-needed the connection to this peer is not getting up (still not
 *   connected 10 s after it started, or the restart policy gave up) and no TURN relay is available to it:
 *   no TURN server in the ICE list, or none gave a relay candidate. A direct path probably does not exist
 *   (symmetric NAT, blocking firewall), so the operator probably needs to set up TURN. Not repeated for
 *   the same connection.
 */

/**
 * @typedef {object} CallOptions
 * @property {string | URL} url the signaling endpoint (`/ws`), ws: or wss:
 * @property {string} room
 * @property {string} name display name
 * @property {string} [password] sets the password when creating the room; required to join it then
 * @property {MediaStream} [localStream] what to send; empty or absent for a receive-only join. Once the
 *   call is joined it owns these tracks: hangUp() stops them
 * @property {string} [client] for the server's logs
 * @property {SignalingClient} [signaling] a session opened earlier (say while the user was in a lobby), so
 *   that join() only has to send `join`; it must be `idle`, `connecting` or `open` and belong to no room. The
 *   Call takes it over: it closes it on hang-up or a refused join. Absent: the Call opens its own
 * @property {PreparedOffer} [prepared] a first offer made ahead of time (in the lobby) with the same ICE
 *   servers and policy: the link to the first member sends it as soon as `joined` arrives. The Call takes it
 *   over: it is closed if not used (nobody in the room, other kinds of media, too old, credentials expiring)
 * @property {RTCIceTransportPolicy} [iceTransportPolicy] `relay` to force TURN (troubleshooting, tests)
 * @property {TurnTransport[]} [iceTransports] keep only the TURN URLs over these transports (e.g. `['tcp']`
 *   with `iceTransportPolicy: 'relay'` to force TURN over TCP); STUN URLs are kept. Absent: all
 */

/** A peer whose signaling is lost keeps its connection only if media still flows after this long. */
const AWAY_DROP_MS = 5_000;
/** Minted TURN credentials are renewed when 80 % of their remaining life is over, but not more than once a minute. */
const ICE_REFRESH_FRACTION = 0.8;
const MIN_ICE_REFRESH_MS = 60_000;
/** A list fetched this recently is fresh enough for an ICE restart: no second request. */
const ICE_FRESH_MS = 5_000;
/** The spare connection for the next newcomer is made once the room has been quiet this long: never mid-setup. */
const SPARE_DELAY_MS = 1_000;
/** A session opened long before join() (in a lobby) may hold TURN credentials about to expire: renew them first then. */
const ICE_MIN_LIFE_AT_JOIN_MS = 10 * 60_000;

/**
 * A call in one room: the signaling session plus a full mesh of peer connections, one per member.
 * Single use: after hangUp() or a refused join(), make a new Call.
 * @extends {Emitter<CallEvents>}
 */
export class Call extends Emitter {
  /** @type {CallOptions} */ #options;
  /** @type {SignalingClient} */ #signaling;
  /** @type {MediaStream} */ #localStream;
  #audioEnabled = true;
  #videoEnabled = true;
  #joined = false;
  #closed = false;
  /** @type {Map<string, P.Member>} */ #members = new Map();
  /** @type {Map<string, PeerLink>} */ #links = new Map();
  /** @type {Map<string, ReturnType<typeof setTimeout>>} peers away whose connection is not up */
  #awayTimers = new Map();
  /** @type {Map<string, ReturnType<typeof setTimeout>>} peers missing from the room after our resume */
  #missingTimers = new Map();
  /** @type {Map<string, PeerState>} */ #lastPeerStates = new Map();
  /** @type {RTCIceServer[]} the latest from `welcome` or `ice-servers`, as the server sent it */ #serverIceServers = [];
  /** @type {RTCIceServer[]} that list after the `iceTransports` filter: what the peer connections use */ #iceServers = [];
  #iceServersAppliedAt = -Infinity;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ #iceRefreshTimer;
  /** @type {Promise<void> | null} one refresh at a time, shared by every link that restarts */ #iceRefresh = null;
  /** @type {Map<PeerLink, LinkQuality>} each link's call report in the making (quality.js) */ #quality = new Map();
  /** @type {PreparedOffer | null} until the first link we initiate takes it */ #prepared;
  /** @type {PreparedConnection | null} a connection ready to answer the next newcomer (prepareAnswerer) */ #spare = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ #spareTimer;

  /** @param {CallOptions} options */
  constructor(options) {
    super();
    this.#options = options;
    this.#localStream = options.localStream ?? new MediaStream();
    this.#prepared = options.prepared ?? null;
    /** @type {import('./signaling.js').SignalingOptions} */
    const signalingOptions = { url: options.url };
    if (options.client) signalingOptions.client = options.client;
    this.#signaling = options.signaling ?? new SignalingClient(signalingOptions);
    this.#signaling.on('message', (message) => this.#receive(message));
    this.#signaling.on('welcome', (welcome) => this.#welcomedAgain(welcome));
    this.#signaling.on('state', (state) => this.#signalingStateChanged(state));
    this.#signaling.on('error', (error) => this.emit('error', error));
    this.#signaling.on('closed', ({ reason }) => this.#end(reason));
    // Hang-up, pagehide: one report per peer connection, before the `bye`.
    this.#signaling.on('closing', () => { for (const link of this.#links.values()) this.#sendReport(link); });
  }

  /** Our peer id (null before joining). */
  get peerId() { return this.#signaling.peerId; }
  get room() { return this.#options.room; }
  get name() { return this.#options.name; }
  /** @returns {ReadonlyMap<string, P.Member>} everyone in the room but us */
  get members() { return this.#members; }
  /** @returns {ReadonlyMap<string, PeerLink>} one peer connection per member (absent while it is being rebuilt) */
  get links() { return this.#links; }
  /** Whether a connection is ready to answer the next newcomer (made once the room has been quiet for a second). */
  get spareReady() { return this.#spare !== null; }
  get localStream() { return this.#localStream; }
  get signalingState() { return this.#signaling.state; }
  /** The ICE servers the server handed us most recently (not filtered by `iceTransports`). */
  get iceServers() { return this.#serverIceServers; }
  /** What we tell the room: whether our microphone and camera are on. */
  get mediaState() {
    return {
      audio: this.#audioEnabled && this.#localStream.getAudioTracks().length > 0,
      video: this.#videoEnabled && this.#localStream.getVideoTracks().length > 0,
    };
  }

  /**
   * Connects (unless given a connected session) and joins the room. Rejects with a SignalingError (`id`:
   * `room-full`, `wrong-password`, `invalid-name`, `invalid-room`, `server-full`, `disconnected`,
   * `not-connected`, …) if that fails; nobody in the room notices a refused join. The local tracks are left
   * running then.
   * @returns {Promise<P.JoinedPayload>}
   */
  async join() {
    try {
      const adopted = this.#signaling.state !== 'idle';
      const welcome = await (adopted ? this.#signaling.ready() : this.#signaling.connect());
      this.#applyIceServers(welcome.iceServers, welcome.iceServersExpireAtMs);
      const expireAtMs = welcome.iceServersExpireAtMs;
      if (adopted && expireAtMs !== undefined && expireAtMs - Date.now() < ICE_MIN_LIFE_AT_JOIN_MS) await this.#refreshIceServers();
      const joined = await this.#joinRoom();
      this.#joined = true;
      // We are the newcomer: we make the first offer to everyone here. They build their side on `peer-joined`
      // (sent before our `joined`) and wait for it, which spares a round trip per member.
      this.#applyMembers(joined, { resumed: false, initiate: true });
      this.#dropPrepared();
      this.#signaling.sendMedia(this.mediaState);
      this.#scheduleSpare();
      return joined;
    } catch (error) {
      this.#dropPrepared();
      this.#signaling.close('join-refused');
      throw error;
    }
  }

  /**
   * Mutes or unmutes the microphone (track.enabled: no renegotiation, the device stays open).
   * @param {boolean} enabled
   */
  setAudioEnabled(enabled) {
    this.#audioEnabled = enabled;
    for (const track of this.#localStream.getAudioTracks()) track.enabled = enabled;
    this.#sendMediaState();
  }

  /**
   * Turns the camera off or on for the others; they show an avatar meanwhile.
   * @param {boolean} enabled
   */
  setVideoEnabled(enabled) {
    this.#videoEnabled = enabled;
    for (const track of this.#localStream.getVideoTracks()) track.enabled = enabled;
    this.#sendMediaState();
  }

  /**
   * Sends a different camera or microphone (or none) to everyone, with RTCRtpSender.replaceTrack. The
   * previous track of that kind is stopped. Its enabled state follows setAudioEnabled/setVideoEnabled.
   * @param {'audio' | 'video'} kind
   * @param {MediaStreamTrack | null} track
   */
  async replaceTrack(kind, track) {
    const old = this.#localStream.getTracks().filter((t) => t.kind === kind && t !== track);
    for (const t of old) this.#localStream.removeTrack(t);
    if (track) {
      track.enabled = kind === 'audio' ? this.#audioEnabled : this.#videoEnabled;
      if (!this.#localStream.getTracks().includes(track)) this.#localStream.addTrack(track);
    }
    this.#dropSpare();
    await Promise.all([...this.#links.values()].map((link) => link.setLocalTrack(kind, track, this.#localStream)));
    // Stopped only once no sender uses them.
    for (const t of old) t.stop();
    this.#sendMediaState();
  }

  /** @param {string} peerId @returns {PeerState | null} null for someone not in the room */
  peerState(peerId) {
    const member = this.#members.get(peerId);
    if (!member) return null;
    const link = this.#links.get(peerId);
    if (!link) return 'reconnecting';
    const signalingLost = member.away || this.#signaling.state === 'reconnecting';
    if (signalingLost && link.state !== 'connected') return 'reconnecting';
    return link.state;
  }

  /** getStats() summaries, one per peer connection. @returns {Promise<LinkStats[]>} */
  stats() {
    return Promise.all([...this.#links.values()].map((link) => link.stats()));
  }

  /** Leaves: stops every local track, closes every peer connection and sends `bye`. */
  hangUp() {
    this.#signaling.close('hangup');
    this.#end('hangup');
  }

  // ---- room membership ----

  /** @returns {Promise<P.JoinedMessage>} */
  #joinRoom() {
    /** @type {{room: string, name: string, password?: string}} */
    const request = { room: this.#options.room, name: this.#options.name };
    if (this.#options.password) request.password = this.#options.password;
    return this.#signaling.join(request);
  }

  /**
   * Brings the mesh in line with a member list (from `joined`, or from a resumed `welcome`).
   * @param {P.JoinedPayload} room
   * @param {{resumed: boolean, initiate?: boolean}} how after a resume, members missing from the list get
   *   their grace period; `initiate`: the list is our `joined`, so the links we build make the first offer
   */
  #applyMembers(room, { resumed, initiate }) {
    const present = new Set(room.members.map((m) => m.peerId));
    for (const member of room.members) {
      this.#clearTimer(this.#missingTimers, member.peerId);
      // Our offer first: the app's reaction to a new member (a tile, a video element) would hold it up. A link
      // made before its member is known emits no state: that follows `member-joined`.
      if (initiate && !member.away && !this.#members.has(member.peerId)) this.#ensureLink(member, true);
      this.#upsertMember(member);
      if (member.away) this.#checkAway(member.peerId);
      else this.#ensureLink(member, initiate);
    }
    if (!resumed) return;
    const grace = this.#signaling.welcome?.resumeGraceMs ?? 30_000;
    for (const [peerId, member] of this.#members) {
      if (present.has(peerId) || this.#missingTimers.has(peerId)) continue;
      this.#updateMember({ ...member, away: true });
      this.#missingTimers.set(peerId, setTimeout(() => {
        this.#missingTimers.delete(peerId);
        this.#removeMember(peerId, 'timeout');
      }, grace));
    }
  }

  /** @param {P.ServerMessage} message */
  #receive(message) {
    this.#scheduleSpare();
    switch (message.type) {
      case 'peer-joined':
        this.#clearTimer(this.#missingTimers, message.member.peerId);
        this.#clearTimer(this.#awayTimers, message.member.peerId);
        this.#upsertMember(message.member);
        // The newcomer makes the first offer (see join()).
        this.#ensureLink(message.member, false);
        break;
      case 'peer-left':
        this.#removeMember(message.peerId, message.reason);
        break;
      case 'peer-away':
        this.#setAway(message.peerId, true);
        break;
      case 'peer-back':
        this.#setAway(message.peerId, false);
        break;
      case 'peer-media': {
        const member = this.#members.get(message.peerId);
        if (member) this.#updateMember({ ...member, audio: message.audio, video: message.video });
        break;
      }
      case 'sdp':
        this.#linkForIncoming(message.from, message.description.type === 'offer')?.receiveDescription(message.description);
        break;
      case 'candidate':
        this.#links.get(message.from)?.receiveCandidate(message.candidate);
        break;
      case 'restart-request':
        this.#linkForIncoming(message.from, false)?.receiveRestartRequest();
        break;
      case 'ice-servers':
        this.#applyIceServers(message.iceServers, message.expireAtMs);
        break;
    }
  }

  /** A welcome after a reconnect: keep the mesh if the session survived, else rejoin as a new peer. @param {P.WelcomeMessage} welcome */
  async #welcomedAgain(welcome) {
    if (!this.#joined || this.#closed) return;
    this.#applyIceServers(welcome.iceServers, welcome.iceServersExpireAtMs);
    try {
      if (welcome.resumed && welcome.room) {
        this.#applyMembers(welcome.room, { resumed: true });
        for (const link of this.#links.values()) link.resendPendingOffer();
        this.#sendMediaState();
        return;
      }
      if (!welcome.resumed) {
        // A new session: everyone knows us by a new id, so every connection has to be rebuilt.
        for (const peerId of [...this.#members.keys()]) this.#removeMember(peerId, 'timeout');
        this.emit('session-changed', { peerId: welcome.peerId });
      }
      // Resumed but not in the room any more (e.g. the server restarted and the room filled): join again.
      // Others keep their live connections to us: a peer-joined for a connected peer changes nothing.
      const joined = await this.#joinRoom();
      this.#applyMembers(joined, { resumed: welcome.resumed, initiate: true });
      this.#sendMediaState();
    } catch (error) {
      const reason = error instanceof Error && 'id' in error ? String(error.id) : 'rejoin-failed';
      this.#signaling.close(reason);
      this.#end(reason, error instanceof Error ? error : undefined);
    }
  }

  /** @param {P.Member} member */
  #upsertMember(member) {
    const known = this.#members.has(member.peerId);
    this.#members.set(member.peerId, { ...member });
    this.emit(known ? 'member-updated' : 'member-joined', { ...member });
    this.#emitPeerState(member.peerId);
  }

  /** @param {P.Member} member */
  #updateMember(member) {
    if (!this.#members.has(member.peerId)) return;
    this.#members.set(member.peerId, member);
    this.emit('member-updated', { ...member });
    this.#emitPeerState(member.peerId);
  }

  /** @param {string} peerId @param {P.LeaveReason} reason */
  #removeMember(peerId, reason) {
    this.#clearTimer(this.#awayTimers, peerId);
    this.#clearTimer(this.#missingTimers, peerId);
    this.#dropLink(peerId);
    this.#lastPeerStates.delete(peerId);
    if (this.#members.delete(peerId)) this.emit('member-left', { peerId, reason });
  }

  /** @param {string} peerId @param {boolean} away */
  #setAway(peerId, away) {
    const member = this.#members.get(peerId);
    if (!member) return;
    this.#updateMember({ ...member, away });
    if (away) {
      this.#checkAway(peerId);
    } else {
      this.#clearTimer(this.#awayTimers, peerId);
      this.#ensureLink(member);
    }
  }

  /** While a peer is away, a connection that is not up for AWAY_DROP_MS is dropped (and rebuilt on its return). @param {string} peerId */
  #checkAway(peerId) {
    if (!this.#members.get(peerId)?.away || this.#awayTimers.has(peerId)) return;
    if (this.#links.get(peerId)?.state === 'connected') return;
    this.#awayTimers.set(peerId, setTimeout(() => {
      this.#awayTimers.delete(peerId);
      if (this.#members.get(peerId)?.away && this.#links.get(peerId)?.state !== 'connected') this.#dropLink(peerId);
    }, AWAY_DROP_MS));
  }

  // ---- links ----

  /**
   * Keeps a live link; builds one if there is none or it is dead.
   * @param {P.Member} member
   * @param {boolean} [initiator] whether a new link makes the first offer (default: if we are impolite)
   */
  #ensureLink(member, initiator) {
    const link = this.#links.get(member.peerId);
    if (link && link.state !== 'closed' && link.state !== 'failed') return link;
    return this.#createLink(member, initiator);
  }

  /**
   * A message from a member we have no link to (we dropped it while it was away): rebuild.
   * @param {string} peerId
   * @param {boolean} withOffer the message is an offer: the new link answers it rather than make its own
   */
  #linkForIncoming(peerId, withOffer) {
    const link = this.#links.get(peerId);
    if (link) return link;
    const member = this.#members.get(peerId);
    return member ? this.#createLink(member, withOffer ? false : undefined) : undefined;
  }

  /**
   * @param {P.Member} member
   * @param {boolean} [initiator] see PeerLink's option
   */
  #createLink(member, initiator) {
    const { peerId } = member;
    this.#dropLink(peerId);
    /** @type {import('./peer.js').LinkOptions} */
    const options = {
      peerId,
      polite: member.polite,
      iceServers: this.#iceServers,
      signaling: this.#signaling,
      localStream: this.#localStream,
      beforeIceRestart: () => (performance.now() - this.#iceServersAppliedAt < ICE_FRESH_MS ? Promise.resolve() : this.#refreshIceServers()),
    };
    if (this.#options.iceTransportPolicy) options.iceTransportPolicy = this.#options.iceTransportPolicy;
    if (initiator !== undefined) options.initiator = initiator;
    const prepared = initiator ? this.#takePrepared() : initiator === false ? this.#takeSpare() : undefined;
    if (prepared) options.prepared = prepared;
    const link = new PeerLink(options);
    this.#quality.set(link, new LinkQuality(link));
    const current = () => this.#links.get(peerId) === link;
    link.on('state', () => {
      if (!current()) return;
      this.#checkAway(peerId);
      this.#emitPeerState(peerId);
    });
    link.on('stream', (stream) => { if (current()) this.emit('remote-stream', { peerId, stream }); });
    link.on('error', (error) => this.emit('error', error));
    let hinted = false;
    link.on('not-connecting', () => {
      if (!current() || hinted || link.state === 'connected') return;
      if (hasTurn(this.#iceServers) && link.relayGathered) return;
      hinted = true;
      this.emit('turn-needed', { peerId });
    });
    link.on('replaced', (description) => {
      if (!current()) return;
      const fresh = this.#createLink(this.#members.get(peerId) ?? member, description ? false : undefined);
      if (description) fresh.receiveDescription(description);
    });
    this.#links.set(peerId, link);
    this.#emitPeerState(peerId);
    return link;
  }

  /** The prepared offer with our tracks on it, if it fits this call; it is used once. */
  #takePrepared() {
    const prepared = this.#prepared;
    this.#prepared = null;
    if (!prepared) return undefined;
    const expireAtMs = prepared.iceServersExpireAtMs;
    const credentialsLast = expireAtMs === undefined || expireAtMs - Date.now() >= ICE_MIN_LIFE_AT_JOIN_MS;
    if (credentialsLast && prepared.fits(this.#localStream, this.#options.iceTransportPolicy)) return prepared.take(this.#localStream);
    prepared.close();
    return undefined;
  }

  /** The spare connection, if there is one, and a new one planned. */
  #takeSpare() {
    const spare = this.#spare ?? undefined;
    this.#spare = null;
    if (spare) this.#scheduleSpare();
    return spare;
  }

  /** Plans the spare connection for the next newcomer, SPARE_DELAY_MS after the latest signaling message. */
  #scheduleSpare() {
    if (!this.#joined || this.#closed || this.#spare) return;
    clearTimeout(this.#spareTimer);
    this.#spareTimer = setTimeout(() => {
      this.#spareTimer = undefined;
      if (this.#closed || this.#spare) return;
      /** @type {Parameters<typeof prepareAnswerer>[0]} */
      const options = { iceServers: this.#iceServers, localStream: this.#localStream };
      if (this.#options.iceTransportPolicy) options.iceTransportPolicy = this.#options.iceTransportPolicy;
      this.#spare = prepareAnswerer(options);
    }, SPARE_DELAY_MS);
  }

  /** The spare no longer matches (other tracks, other ICE servers): close it, make another later. */
  #dropSpare() {
    this.#spare?.pc.close();
    this.#spare = null;
    if (this.#joined) this.#scheduleSpare();
  }

  /** Nobody to send the prepared offer to (we are first in the room), or the join failed: free it. */
  #dropPrepared() {
    this.#prepared?.close();
    this.#prepared = null;
  }

  /** @param {string} peerId */
  #dropLink(peerId) {
    const link = this.#links.get(peerId);
    if (!link) return;
    this.#links.delete(peerId);
    this.#sendReport(link);
    link.close();
    this.#emitPeerState(peerId);
  }

  /** @param {string} peerId */
  #emitPeerState(peerId) {
    const state = this.peerState(peerId);
    if (!state || this.#lastPeerStates.get(peerId) === state) return;
    this.#lastPeerStates.set(peerId, state);
    this.emit('peer-state', { peerId, state });
  }

  // ---- ICE servers ----

  /**
   * Uses a new ICE server list everywhere (new links, and every link from its next gathering on) and plans
   * its renewal before the TURN credentials in it expire.
   * @param {RTCIceServer[]} iceServers
   * @param {number} [expireAtMs] Unix ms
   */
  #applyIceServers(iceServers, expireAtMs) {
    this.#serverIceServers = iceServers;
    this.#iceServers = filterIceServers(iceServers, this.#options.iceTransports);
    this.#iceServersAppliedAt = performance.now();
    for (const link of this.#links.values()) link.setIceServers(this.#iceServers);
    if (this.#spare) this.#dropSpare();
    clearTimeout(this.#iceRefreshTimer);
    this.#iceRefreshTimer = undefined;
    if (expireAtMs === undefined || this.#closed) return;
    const delay = Math.max(MIN_ICE_REFRESH_MS, (expireAtMs - Date.now()) * ICE_REFRESH_FRACTION);
    this.#iceRefreshTimer = setTimeout(() => {
      this.#iceRefreshTimer = undefined;
      this.#renewIceServers();
    }, delay);
  }

  /**
   * The planned renewal before the credentials expire: fetch a fresh list, then restart ICE on every link
   * that is relayed right now.
   *
   * Why the restart: setConfiguration only affects candidates gathered from then on. An existing TURN
   * allocation keeps being refreshed (TURN Refresh, every few minutes) with the username and password it was
   * created with, and a REST username carries its own expiry time: once that passes, the TURN server
   * (coturn, or ours) answers the Refresh with 401 and the allocation, and so the relayed call, dies. An ICE
   * restart gathers new relay candidates, i.e. new allocations with the fresh credentials, and moves the
   * call onto them without dropping media. A direct (host/srflx) pair needs no TURN and is left alone.
   */
  async #renewIceServers() {
    const before = this.#iceServersAppliedAt;
    await this.#refreshIceServers();
    // No fresh list (signaling down): restarting would allocate with the old credentials. A retry is planned.
    if (this.#closed || this.#iceServersAppliedAt === before) return;
    await Promise.all([...this.#links.values()].map(async (link) => {
      if (link.state !== 'connected') return;
      // Only our own allocation matters here: a peer relayed on its side renews its own.
      const stats = await link.stats().catch(() => null);
      if (stats?.localCandidateType === 'relay') await link.restartIce();
    }));
  }

  /**
   * Asks the server for fresh ICE servers and applies them. Never rejects: on failure the old list stays,
   * and the renewal is tried again a minute later (a reconnect's `welcome` brings a fresh list anyway).
   */
  #refreshIceServers() {
    this.#iceRefresh ??= this.#signaling.requestIceServers()
      .then((reply) => this.#applyIceServers(reply.iceServers, reply.expireAtMs))
      .catch((error) => {
        const lost = error instanceof SignalingError && (error.id === 'not-connected' || error.id === 'disconnected');
        if (!lost) this.emit('error', new Error(`could not refresh the ICE servers: ${error instanceof Error ? error.message : error}`));
        if (this.#closed || this.#iceRefreshTimer !== undefined) return;
        this.#iceRefreshTimer = setTimeout(() => {
          this.#iceRefreshTimer = undefined;
          this.#refreshIceServers();
        }, MIN_ICE_REFRESH_MS);
      })
      .finally(() => { this.#iceRefresh = null; });
    return this.#iceRefresh;
  }

  // ---- plumbing ----

  /** @param {SignalingState} state */
  #signalingStateChanged(state) {
    this.emit('signaling-state', state);
    for (const peerId of this.#members.keys()) this.#emitPeerState(peerId);
  }

  #sendMediaState() {
    if (this.#joined && !this.#closed) this.#signaling.sendMedia(this.mediaState);
  }

  /** A link is going away: its call report goes to the server. @param {PeerLink} link */
  #sendReport(link) {
    const report = this.#quality.get(link)?.finish();
    this.#quality.delete(link);
    if (report && !this.#closed) this.#signaling.sendCallReport(report);
  }

  /** @param {Map<string, ReturnType<typeof setTimeout>>} timers @param {string} peerId */
  #clearTimer(timers, peerId) {
    clearTimeout(timers.get(peerId));
    timers.delete(peerId);
  }

  /**
   * Tears everything down once. A refused join leaves the local tracks alone (the lobby still shows them).
   * @param {string} reason
   * @param {Error} [error]
   */
  #end(reason, error) {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#iceRefreshTimer);
    clearTimeout(this.#spareTimer);
    this.#spare?.pc.close();
    this.#spare = null;
    for (const timers of [this.#awayTimers, this.#missingTimers]) {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    }
    for (const link of this.#links.values()) link.close();
    for (const quality of this.#quality.values()) quality.finish();
    this.#quality.clear();
    this.#links.clear();
    // Before a successful join the caller still owns the tracks and learns the outcome from join().
    if (!this.#joined) return;
    for (const track of this.#localStream.getTracks()) track.stop();
    /** @type {{reason: string, error?: Error}} */
    const detail = { reason };
    if (error) detail.error = error;
    this.emit('closed', detail);
  }
}
