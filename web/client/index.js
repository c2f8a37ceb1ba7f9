// Parley's browser client: everything an app needs to join a call, with no UI in it.
// See docs/writing-a-client.md.

export { Call } from './call.js';
export { PeerLink, sessionIdOf } from './peer.js';
export { PREPARED_OFFER_MAX_AGE_MS, PreparedOffer } from './prepared.js';
export { SignalingClient } from './signaling.js';
export { MediaAccessError, classifyMediaError, getLocalMedia, listDevices, stopStream } from './media.js';
export { CloseCode, PROTOCOL_VERSION, SignalingError, parseServerMessage } from './protocol.js';
export { backoffDelay } from './backoff.js';
export { LinkQuality, buildCallReport, readStats } from './quality.js';
export {
  TURN_TRANSPORTS, filterIceServers, hasTurn, iceOptionsFromQuery, isStunUrl, testIceServers, testStunUrl, testTurnUrl,
  turnTransportOf, urlsOf,
} from './ice.js';

/** @typedef {import('./protocol.js').Member} Member */
/** @typedef {import('./protocol.js').ServerErrorId} ServerErrorId */
/** @typedef {import('./protocol.js').JoinedPayload} JoinedPayload */
/** @typedef {import('./protocol.js').WelcomeMessage} WelcomeMessage */
/** @typedef {import('./call.js').CallOptions} CallOptions */
/** @typedef {import('./call.js').CallEvents} CallEvents */
/** @typedef {import('./call.js').PeerState} PeerState */
/** @typedef {import('./peer.js').LinkStats} LinkStats */
/** @typedef {import('./prepared.js').SendKinds} SendKinds */
/** @typedef {import('./prepared.js').PreparedOfferOptions} PreparedOfferOptions */
/** @typedef {import('./signaling.js').SignalingState} SignalingState */
/** @typedef {import('./media.js').MediaErrorKind} MediaErrorKind */
/** @typedef {import('./ice.js').TurnTransport} TurnTransport */
/** @typedef {import('./ice.js').IceTestResult} IceTestResult */
/** @typedef {import('./protocol.js').CallReportMessage} CallReportMessage */
