import { backoffDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import { CloseCode, PONG_TIMEOUT_MS, PROTOCOL_VERSION, SignalingError, parseServerMessage } from './protocol.js';

/** @import * as P from './protocol.js' */

/**
 * `idle` before connect(); `connecting` until the first `welcome`; `open` while a welcomed socket is up;
 * `reconnecting` while the socket is lost and the session is being resumed; `closed` for good.
 * @typedef {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} SignalingState
 */

/**
 * @typedef {object} SignalingEvents
 * @property {SignalingState} state the state changed
 * @property {P.WelcomeMessage} welcome every `welcome`: the first one, and one after each reconnect
 *   (`resumed` says whether the session survived)
 * @property {P.ServerMessage} message every other server message that is not a reply to a request
 * @property {SignalingError} error an `error` from the server that no pending request claimed
 * @property {{code: number, reason: string}} disconnected the socket was lost; a reconnect is scheduled
 * @property {{reason: string}} closing close() was called and the socket is still open: the last moment to
 *   send anything (call reports) before `bye`
 * @property {{reason: string}} closed the client stopped for good (hang-up, page hidden, or a fatal error)
 */

/**
 * @typedef {object} SignalingOptions
 * @property {string | URL} url the `/ws` endpoint, ws: or wss:
 * @property {string} [client] sent in `hello.client` for the server's logs (at most 64 characters)
 * @property {number} [requestTimeoutMs] how long join/leave wait for their reply (default 10 s)
 * @property {boolean} [byeOnPageHide] send `bye` when the page is hidden for good (default true)
 * @property {typeof WebSocket} [WebSocket] the WebSocket constructor, replaceable in tests
 */

/** Client messages worth sending late; anything else is pointless after a reconnect. */
const QUEUEABLE = new Set(['sdp', 'candidate', 'restart-request', 'media', 'call-report']);
const MAX_QUEUED = 256;

/** Close codes after which reconnecting cannot help. */
/** @type {Set<number>} */
const FATAL_CLOSE_CODES = new Set([
  CloseCode.normal, CloseCode.protocolError, CloseCode.sessionTakenOver, CloseCode.roomClosed, CloseCode.sessionClosed,
]);

/** The `closed` reason for fatal close codes a UI explains (the ids of docs/signaling-protocol.md). */
/** @type {Map<number, string>} */
const CLOSE_REASONS = new Map([
  [CloseCode.sessionTakenOver, 'session-taken-over'],
  [CloseCode.roomClosed, 'room-closed'],
  [CloseCode.sessionClosed, 'session-closed'],
]);

/** Our own close code for a socket we gave up on (no `pong` or `welcome` in time). */
const CLOSE_CODE_UNRESPONSIVE = 4100;

// WebSocket.readyState values, spelled out so a replacement WebSocket class needs no static constants.
const CONNECTING = 0;
const OPEN = 1;

/**
 * One signaling session over a WebSocket: hello/welcome, requests matched by `rid`, heartbeats, and
 * reconnects that resume the session with the latest resume token.
 * @extends {Emitter<SignalingEvents>}
 */
export class SignalingClient extends Emitter {
  /** @type {Required<Omit<SignalingOptions, 'client'>> & {client?: string}} */
  #options;
  /** @type {SignalingState} */
  #state = 'idle';
  /** @type {WebSocket | null} */
  #socket = null;
  /** @type {P.WelcomeMessage | null} */
  #welcome = null;
  #resumeToken = '';
  #attempt = 0;
  #nextRid = 0;
  /** @type {Map<string, {resolve: (m: any) => void, reject: (e: SignalingError) => void, timer: ReturnType<typeof setTimeout>}>} */
  #pending = new Map();
  /** @type {P.ClientMessage[]} */
  #outbox = [];
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #heartbeat;
  /** @type {ReturnType<typeof setTimeout> | undefined} a deadline for `welcome` or `pong` */
  #deadline;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #reconnectTimer;
  /** @type {{resolve: (w: P.WelcomeMessage) => void, reject: (e: SignalingError) => void} | null} */
  #firstWelcome = null;
  /** @type {Promise<P.WelcomeMessage> | null} what connect() returned */
  #connecting = null;

  /** @param {SignalingOptions} options */
  constructor(options) {
    super();
    this.#options = {
      requestTimeoutMs: 10_000,
      byeOnPageHide: true,
      WebSocket: globalThis.WebSocket,
      ...options,
    };
  }

  /** @returns {SignalingState} */
  get state() { return this.#state; }
  /** Our peer id, once welcomed. */
  get peerId() { return this.#welcome?.peerId ?? null; }
  /** The latest `welcome` (its iceServers carry fresh TURN credentials after every reconnect). */
  get welcome() { return this.#welcome; }

  /**
   * Opens the socket and says hello. Resolves with the first `welcome`. If that first attempt fails the
   * client is closed and the promise rejects; later losses of the socket are repaired automatically.
   * @returns {Promise<P.WelcomeMessage>}
   */
  connect() {
    if (this.#state !== 'idle') return Promise.reject(new SignalingError('closed', 'connect() may be called once'));
    if (this.#options.byeOnPageHide) globalThis.addEventListener?.('pagehide', this.#onPageHide);
    globalThis.addEventListener?.('online', this.#onOnline);
    this.#setState('connecting');
    this.#connecting = new Promise((resolve, reject) => {
      this.#firstWelcome = { resolve, reject };
      this.#openSocket();
    });
    return this.#connecting;
  }

  /**
   * The session as it is now, for a caller that takes over a client someone else connected (a lobby opens
   * the session early, the Call joins on it): resolves with the latest `welcome` when open, waits for the
   * first one while connecting, and rejects with `not-connected` otherwise (idle, reconnecting or closed),
   * rather than wait for a reconnect of unknown length.
   * @returns {Promise<P.WelcomeMessage>}
   */
  ready() {
    if (this.#state === 'open' && this.#welcome) return Promise.resolve(this.#welcome);
    if (this.#state === 'connecting' && this.#connecting) return this.#connecting;
    return Promise.reject(new SignalingError('not-connected', `the signaling session is ${this.#state}`));
  }

  /**
   * Joins a room. Resolves with `joined`; rejects with a SignalingError whose `id` is the server's
   * (`room-full`, `wrong-password`, `invalid-name`, …) or a local one (`timeout`, `disconnected`).
   * @param {{room: string, name: string, password?: string}} request
   * @returns {Promise<P.JoinedMessage>}
   */
  join({ room, name, password }) {
    /** @type {P.JoinMessage} */
    const message = { type: 'join', room, name };
    if (password) message.password = password;
    return this.#request(message);
  }

  /** Leaves the room but keeps the session. @returns {Promise<P.LeftMessage>} */
  leave() {
    return this.#request({ type: 'leave' });
  }

  /**
   * Asks for a fresh list of ICE servers (TURN credentials are minted per peer and expire).
   * @returns {Promise<P.IceServersMessage>}
   */
  requestIceServers() {
    return this.#request({ type: 'ice-servers' });
  }

  /** @param {string} to @param {P.SessionDescription} description */
  sendSdp(to, description) {
    this.#send({ type: 'sdp', to, description });
  }

  /** @param {string} to @param {RTCIceCandidateInit | null} candidate null for end-of-candidates */
  sendCandidate(to, candidate) {
    this.#send({ type: 'candidate', to, candidate });
  }

  /** Asks the impolite side of a pair to restart ICE. @param {string} to */
  sendRestartRequest(to) {
    this.#send({ type: 'restart-request', to });
  }

  /** Tells the room whether our microphone and camera are on. @param {{audio: boolean, video: boolean}} state */
  sendMedia({ audio, video }) {
    this.#send({ type: 'media', audio, video });
  }

  /** Sends a call report (see quality.js); queued while reconnecting. @param {P.CallReportMessage} report */
  sendCallReport(report) {
    this.#send(report);
  }

  /**
   * Ends the session: sends `bye` (the room learns at once, no grace period) and closes the socket.
   * @param {string} [reason] reported in the `closed` event
   */
  close(reason = 'hangup') {
    if (this.#state === 'closed') return;
    if (this.#state === 'open') this.emit('closing', { reason });
    const socket = this.#socket;
    if (this.#state === 'open' && socket?.readyState === OPEN) socket.send(JSON.stringify({ type: 'bye' }));
    this.#shutDown(reason, new SignalingError('closed', 'the signaling client was closed'));
    socket?.close(CloseCode.normal, 'bye');
  }

  // ---- sockets ----

  #openSocket() {
    const hello = /** @type {P.HelloMessage} */ ({ type: 'hello', protocol: PROTOCOL_VERSION });
    if (this.#options.client) hello.client = this.#options.client;
    if (this.#welcome) hello.resume = { peerId: this.#welcome.peerId, token: this.#resumeToken };

    let socket;
    try {
      socket = new this.#options.WebSocket(this.#options.url);
    } catch (error) {
      // A malformed URL: no retry can fix it.
      this.#fail(new SignalingError('closed', `cannot open ${this.#options.url}: ${error}`));
      return;
    }
    this.#socket = socket;
    socket.onopen = () => socket.send(JSON.stringify(hello));
    socket.onmessage = (event) => {
      if (socket === this.#socket && typeof event.data === 'string') this.#receive(event.data);
    };
    socket.onclose = (event) => {
      if (socket === this.#socket) this.#lost(event.code, event.reason);
    };
    // The server must welcome us within the same deadline as a pong; a half-open TCP connect counts too.
    this.#armDeadline('no welcome');
  }

  /** @param {string} text */
  #receive(text) {
    const message = parseServerMessage(text);
    if (!message) return;
    // pong, joined and left carry a fresh token (joined's names the room): always keep the latest.
    if ('resumeToken' in message && typeof message.resumeToken === 'string') this.#resumeToken = message.resumeToken;
    switch (message.type) {
      case 'welcome':
        this.#welcomed(message);
        return;
      case 'pong':
        clearTimeout(this.#deadline);
        this.#deadline = undefined;
        return;
      case 'error':
        this.#serverError(message);
        return;
    }
    const pending = message.rid === undefined ? undefined : this.#pending.get(message.rid);
    if (pending && message.rid !== undefined) {
      this.#pending.delete(message.rid);
      clearTimeout(pending.timer);
      pending.resolve(message);
      return;
    }
    this.emit('message', message);
  }

  /** @param {P.WelcomeMessage} welcome */
  #welcomed(welcome) {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    this.#welcome = welcome;
    this.#resumeToken = welcome.resumeToken;
    this.#attempt = 0;
    this.#startHeartbeat(welcome.heartbeatIntervalMs);
    this.#setState('open');
    // Messages queued during the outage address the old session's room: deliver them only if it survived.
    const queued = welcome.resumed ? this.#outbox : [];
    this.#outbox = [];
    for (const message of queued) this.#send(message);

    this.emit('welcome', welcome);
    const first = this.#firstWelcome;
    this.#firstWelcome = null;
    first?.resolve(welcome);
  }

  /** @param {P.ErrorMessage} message */
  #serverError(message) {
    const error = new SignalingError(message.id, message.message, message.ref);
    const pending = message.rid === undefined ? undefined : this.#pending.get(message.rid);
    if (pending && message.rid !== undefined) {
      this.#pending.delete(message.rid);
      clearTimeout(pending.timer);
      pending.reject(error);
      return;
    }
    // Before welcome (server-full, unsupported-protocol, …) the error explains the close that follows.
    if (this.#firstWelcome) {
      this.#fail(error);
      return;
    }
    this.emit('error', error);
  }

  /**
   * The current socket is gone (closed by either side, or given up on).
   * @param {number} code
   * @param {string} reason
   */
  #lost(code, reason) {
    this.#detachSocket();
    this.#stopTimers();
    this.#rejectPending(new SignalingError('disconnected', `the socket closed (${code}) before the reply`));
    if (this.#state === 'closed') return;
    if (this.#firstWelcome) {
      this.#fail(new SignalingError('disconnected', `could not connect to the signaling server (${code} ${reason})`.trim()));
      return;
    }
    if (FATAL_CLOSE_CODES.has(code)) {
      this.#shutDown(CLOSE_REASONS.get(code) ?? `closed by the server (${code})`);
      return;
    }
    if (this.#state === 'open') {
      this.#setState('reconnecting');
      this.emit('disconnected', { code, reason });
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    clearTimeout(this.#reconnectTimer);
    const delay = backoffDelay(this.#attempt++);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state === 'reconnecting') this.#openSocket();
    }, delay);
  }

  /** Stops listening to the current socket and closes it without waiting for the close handshake. */
  #detachSocket() {
    const socket = this.#socket;
    this.#socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    if (socket.readyState === CONNECTING || socket.readyState === OPEN)
      socket.close(CLOSE_CODE_UNRESPONSIVE, 'unresponsive');
  }

  // ---- heartbeats ----

  /** @param {number} intervalMs */
  #startHeartbeat(intervalMs) {
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      if (this.#socket?.readyState !== OPEN) return;
      this.#socket.send(JSON.stringify({ type: 'ping' }));
      if (this.#deadline === undefined) this.#armDeadline('no pong');
    }, intervalMs);
  }

  /** @param {string} what */
  #armDeadline(what) {
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => {
      this.#deadline = undefined;
      if (this.#socket) this.#lost(CLOSE_CODE_UNRESPONSIVE, what);
    }, PONG_TIMEOUT_MS);
  }

  #stopTimers() {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#deadline);
    this.#heartbeat = this.#deadline = undefined;
  }

  // ---- sending ----

  /**
   * @template {P.ServerMessage} Reply
   * @param {P.JoinMessage | P.LeaveMessage | P.IceServersRequestMessage} message
   * @returns {Promise<Reply>}
   */
  #request(message) {
    if (this.#state !== 'open' || this.#socket?.readyState !== OPEN)
      return Promise.reject(new SignalingError('not-connected', `cannot send ${message.type}: not connected`, message.type));
    const rid = String(++this.#nextRid);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(new SignalingError('timeout', `no reply to ${message.type}`, message.type));
      }, this.#options.requestTimeoutMs);
      this.#pending.set(rid, { resolve, reject, timer });
      this.#socket?.send(JSON.stringify({ ...message, rid }));
    });
  }

  /** Sends now, or queues while reconnecting (a lost offer would stall negotiation). @param {P.ClientMessage} message */
  #send(message) {
    if (this.#state === 'open' && this.#socket?.readyState === OPEN) {
      this.#socket.send(JSON.stringify(message));
    } else if (this.#state === 'reconnecting' && QUEUEABLE.has(message.type)) {
      if (this.#outbox.length >= MAX_QUEUED) this.#outbox.shift();
      this.#outbox.push(message);
    }
  }

  /** @param {SignalingError} error */
  #rejectPending(error) {
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    this.#pending.clear();
  }

  // ---- ending ----

  /** The first connect failed: reject connect() and close. @param {SignalingError} error */
  #fail(error) {
    const first = this.#firstWelcome;
    this.#firstWelcome = null;
    this.#shutDown(error.message, error);
    first?.reject(error);
  }

  /**
   * @param {string} reason
   * @param {SignalingError} [error] rejects pending requests with it
   */
  #shutDown(reason, error = new SignalingError('closed', reason)) {
    if (this.#state === 'closed') return;
    globalThis.removeEventListener?.('pagehide', this.#onPageHide);
    globalThis.removeEventListener?.('online', this.#onOnline);
    clearTimeout(this.#reconnectTimer);
    this.#stopTimers();
    this.#rejectPending(error);
    this.#outbox = [];
    const socket = this.#socket;
    this.#socket = null;
    if (socket) socket.onopen = socket.onmessage = socket.onclose = null;
    this.#setState('closed');
    this.emit('closed', { reason });
  }

  /** @param {SignalingState} state */
  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }

  /** The tab is being closed or navigated away: say bye so nobody sees a frozen tile. */
  #onPageHide = () => this.close('pagehide');

  /** The network is back: retry now instead of waiting out the backoff. */
  #onOnline = () => {
    if (this.#state !== 'reconnecting' || this.#reconnectTimer === undefined) return;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#openSocket();
  };
}
