// Parley signaling protocol, version 1: the typedefs mirror docs/signaling-protocol.md message by message.
// Keep them in step with that document and with the C# records in src/Parley.Signaling/Protocol.

/** The protocol version this client speaks (`hello.protocol`). */
export const PROTOCOL_VERSION = 1;

/** How long to wait for `pong` after `ping` before the socket counts as dead (protocol: 10 s). */
export const PONG_TIMEOUT_MS = 10_000;

/** WebSocket close codes the server uses. */
export const CloseCode = Object.freeze({
  normal: 1000,
  goingAway: 1001,
  internalError: 1011,
  serverFull: 1013,
  protocolError: 4000,
  sessionTakenOver: 4001,
  heartbeatTimeout: 4002,
  roomClosed: 4003,
  sessionClosed: 4004,
});

/**
 * Stable error ids; UIs translate by id, never by `message`.
 * @typedef {'bad-json' | 'bad-message' | 'unknown-type' | 'binary-not-supported' | 'message-too-large'
 *   | 'rate-limited' | 'hello-required' | 'unsupported-protocol' | 'already-welcomed' | 'invalid-name'
 *   | 'invalid-room' | 'invalid-password' | 'room-full' | 'wrong-password' | 'already-in-room'
 *   | 'not-in-room' | 'unknown-peer' | 'server-full' | 'server-draining' | 'room-closed' | 'session-closed'
 *   | 'hello-timeout' | 'internal' | 'invalid-call-report'} ServerErrorId
 */

// ---- Shared shapes ----

/**
 * A room member as others see it. `polite` says whether *you* are polite towards that member.
 * @typedef {object} Member
 * @property {string} peerId
 * @property {string} name
 * @property {boolean} polite
 * @property {boolean} audio
 * @property {boolean} video
 * @property {boolean} away
 */

/**
 * @typedef {object} Limits
 * @property {number} maxMessageBytes
 * @property {number} messagesPerSecond
 * @property {number} maxNameLength
 * @property {number} maxRoomLength
 * @property {number} maxRoomCapacity
 */

/**
 * @typedef {object} SessionDescription
 * @property {'offer' | 'answer'} type
 * @property {string} sdp
 */

// ---- Client → server ----

/**
 * Fields every client message may carry.
 * @typedef {object} Envelope
 * @property {string} [rid] at most 64 characters; echoed by the reply or error it causes
 */

/** @typedef {Envelope & {type: 'hello', protocol: number, resume?: {peerId: string, token: string}, client?: string}} HelloMessage */
/** @typedef {Envelope & {type: 'join', room: string, name: string, password?: string}} JoinMessage */
/** @typedef {Envelope & {type: 'leave'}} LeaveMessage */
/** @typedef {Envelope & {type: 'sdp', to: string, description: SessionDescription}} SdpOutMessage */
/** @typedef {Envelope & {type: 'candidate', to: string, candidate: RTCIceCandidateInit | null}} CandidateOutMessage */
/** @typedef {Envelope & {type: 'restart-request', to: string}} RestartRequestOutMessage */
/** @typedef {Envelope & {type: 'media', audio: boolean, video: boolean}} MediaMessage */
/** @typedef {Envelope & {type: 'ping'}} PingMessage */
/** @typedef {Envelope & {type: 'ice-servers'}} IceServersRequestMessage */
/** @typedef {Envelope & {type: 'bye'}} ByeMessage */

/** @typedef {'host' | 'srflx' | 'prflx' | 'relay'} CandidateType */
/** @typedef {'udp' | 'tcp' | 'tls'} RelayProtocol */
/** @typedef {'ice-failed' | 'connect-timeout'} CallFailure */

/**
 * The summary of one peer connection, sent when it ends (web/client/quality.js builds it). Names nobody.
 * @typedef {object} CallReportFields
 * @property {'call-report'} type
 * @property {number} durationMs from the connection's creation, 0–86 400 000
 * @property {boolean} connected whether it ever reached `connected`
 * @property {CandidateType} [localCandidateType] of the last selected candidate pair
 * @property {CandidateType} [remoteCandidateType]
 * @property {RelayProtocol} [relayProtocol] when the local candidate is a relay
 * @property {number} [rttMs] average round-trip time, 0–60 000
 * @property {number} [packetLoss] fraction of inbound RTP packets lost, 0–1
 * @property {number} iceRestarts restarts this side started or asked for, 0–1000
 * @property {CallFailure} [failure] absent when the connection worked
 */
/** @typedef {Envelope & CallReportFields} CallReportMessage */

/**
 * @typedef {HelloMessage | JoinMessage | LeaveMessage | SdpOutMessage | CandidateOutMessage
 *   | RestartRequestOutMessage | MediaMessage | PingMessage | IceServersRequestMessage | ByeMessage
 *   | CallReportMessage} ClientMessage
 */

// ---- Server → client ----

/**
 * @typedef {object} JoinedPayload
 * @property {string} room
 * @property {number} capacity
 * @property {boolean} passwordProtected
 * @property {Member[]} members everyone in the room except yourself
 */

/**
 * @typedef {object} WelcomeFields
 * @property {'welcome'} type
 * @property {number} protocol
 * @property {string} peerId
 * @property {string} resumeToken
 * @property {boolean} resumed
 * @property {JoinedPayload} [room] present when a resume restored room membership
 * @property {RTCIceServer[]} iceServers
 * @property {number} [iceServersExpireAtMs] when minted TURN credentials expire (Unix ms)
 * @property {number} heartbeatIntervalMs
 * @property {number} heartbeatTimeoutMs
 * @property {number} resumeGraceMs
 * @property {Limits} limits
 */

/** @typedef {Envelope & WelcomeFields} WelcomeMessage */
/** @typedef {Envelope & {type: 'joined', resumeToken: string} & JoinedPayload} JoinedMessage fresh token: it names the room */
/** @typedef {Envelope & {type: 'left', room: string, resumeToken: string}} LeftMessage */
/** @typedef {Envelope & {type: 'peer-joined', room: string, member: Member}} PeerJoinedMessage */
/** @typedef {'left' | 'timeout' | 'kicked'} LeaveReason */
/** @typedef {Envelope & {type: 'peer-left', room: string, peerId: string, reason: LeaveReason}} PeerLeftMessage */
/** @typedef {Envelope & {type: 'peer-away', room: string, peerId: string}} PeerAwayMessage */
/** @typedef {Envelope & {type: 'peer-back', room: string, peerId: string}} PeerBackMessage */
/** @typedef {Envelope & {type: 'peer-media', room: string, peerId: string, audio: boolean, video: boolean}} PeerMediaMessage */
/** @typedef {Envelope & {type: 'sdp', from: string, description: SessionDescription}} SdpInMessage */
/** @typedef {Envelope & {type: 'candidate', from: string, candidate: RTCIceCandidateInit | null}} CandidateInMessage */
/** @typedef {Envelope & {type: 'restart-request', from: string}} RestartRequestInMessage */
/** @typedef {Envelope & {type: 'pong', resumeToken: string}} PongMessage */
/** @typedef {Envelope & {type: 'ice-servers', iceServers: RTCIceServer[], expireAtMs?: number}} IceServersMessage */
/** @typedef {Envelope & {type: 'error', id: ServerErrorId, message: string, ref?: string}} ErrorMessage */

/**
 * @typedef {WelcomeMessage | JoinedMessage | LeftMessage | PeerJoinedMessage | PeerLeftMessage
 *   | PeerAwayMessage | PeerBackMessage | PeerMediaMessage | SdpInMessage | CandidateInMessage
 *   | RestartRequestInMessage | PongMessage | IceServersMessage | ErrorMessage} ServerMessage
 */

/**
 * Reads one text frame. Never throws: a frame that is not a JSON object with a string `type` gives null.
 * Fields are not validated further: the server is trusted to follow the protocol, and unknown types
 * are ignored by the caller (so a newer server may add messages).
 * @param {string} text
 * @returns {ServerMessage | null}
 */
export function parseServerMessage(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof value.type !== 'string')
    return null;
  return /** @type {ServerMessage} */ (value);
}

/** An `error` message from the server, or a local failure of a request, as an Error with a stable id. */
export class SignalingError extends Error {
  /**
   * @param {ServerErrorId | 'not-connected' | 'disconnected' | 'timeout' | 'closed'} id
   *   server ids, plus local ones: `not-connected` (sent while no session), `disconnected` (the socket was
   *   lost before the reply), `timeout` (no reply in time), `closed` (the client was closed).
   * @param {string} message English, for logs
   * @param {string} [ref] the `type` of the message that caused it
   */
  constructor(id, message, ref) {
    super(message);
    this.name = 'SignalingError';
    this.id = id;
    this.ref = ref;
  }
}
