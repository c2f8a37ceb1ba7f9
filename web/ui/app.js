// Parley's app: the lobby, the call screen, and the test hooks on window.parley (see ui/README.md).
import {
  Call, PREPARED_OFFER_MAX_AGE_MS, PreparedOffer, SignalingClient, filterIceServers, getLocalMedia, iceOptionsFromQuery, sessionIdOf,
} from '../client/index.js';
import { CallView } from './call-view.js';
import { ConnectivityPanel } from './connectivity.js';
import { byId } from './dom.js';
import { hasMessage, initialLanguage, setLanguage, setText } from './i18n.js';
import { LobbyMedia } from './lobby.js';

/** @import {MessageKey} from './i18n.js' */

const NAME_KEY = 'parley.name';
const CLIENT = 'parley-web';

/** @typedef {'full' | 'audio-only' | 'receive-only'} JoinMode */

const lobby = byId('lobby');
const callSection = byId('call');
const nameInput = /** @type {HTMLInputElement} */ (byId('name'));
const roomInput = /** @type {HTMLInputElement} */ (byId('room'));
const passwordInput = /** @type {HTMLInputElement} */ (byId('password'));
const notice = byId('notice');
const joinButtons = ['join', 'join-audio-only', 'join-receive-only'].map((id) => /** @type {HTMLButtonElement} */ (byId(id)));

const media = new LobbyMedia(() => { if (lobbyOffer && !sameKinds(lobbyOffer.send, media.sends)) prepareOffer(); });
const view = new CallView();
/** @type {Call | null} */
let call = null;
/**
 * The signaling session, opened while the user is still in the lobby (looking at the preview, typing a name)
 * so that Join only has to send `join`. It belongs to no room until then, so nobody sees it.
 * @type {SignalingClient | null}
 */
let lobbySession = null;
/**
 * The first offer, made on the lobby's session as soon as it and the preview are ready, so that Join sends
 * it at once (client/prepared.js). Made again before it gets too old, when the preview's kinds change and after
 * the session reconnected.
 * @type {PreparedOffer | null}
 */
let lobbyOffer = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let lobbyOfferRenewal;
// Troubleshooting from the address bar (see ui/README.md): ?policy=relay forces TURN, ?turn=tcp keeps only
// TURN over TCP (udp, tcp, tls; several with commas).
const iceOptions = iceOptionsFromQuery(location.search);
new ConnectivityPanel({ signalingUrl: signalingUrl(), iceServers: () => (call?.signalingState === 'open' ? call.iceServers : null) });

setUpLanguage();
nameInput.value = localStorage.getItem(NAME_KEY) ?? '';
roomInput.value = roomFromPath() ?? '';
installTestHooks();

byId('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  join('full');
});
byId('join-audio-only').addEventListener('click', () => join('audio-only'));
byId('join-receive-only').addEventListener('click', () => join('receive-only'));

media.acquire();
openLobbySession();
// Leaving: the prepared offer's TURN allocations go too (the session says bye by itself).
addEventListener('pagehide', () => dropOffer());
// Back from the back/forward cache: the lobby's session said bye on pagehide.
addEventListener('pageshow', (event) => {
  if (event.persisted && !call && (!lobbySession || lobbySession.state === 'closed')) openLobbySession();
});

/** @param {JoinMode} mode */
async function join(mode) {
  if (call) return;
  notice.hidden = true;
  setJoining(true);
  const signaling = takeLobbySession();
  const prepared = takeOffer();

  /** @type {MessageKey | undefined} */
  let note;
  let localStream;
  if (mode === 'full') {
    localStream = await media.takeStream();
  } else {
    media.stop();
    localStream = new MediaStream();
    if (mode === 'audio-only') {
      const microphone = media.choice.microphone;
      localStream = await getLocalMedia({ audio: microphone || true, video: false }).catch(() => {
        note = 'media.audioOnlyFailed';
        return new MediaStream();
      });
    }
  }

  const name = nameInput.value.trim();
  const room = roomInput.value.trim();
  const password = passwordInput.value;
  /** @type {import('../client/index.js').CallOptions} */
  const options = { url: signalingUrl(), room, name, password, localStream, client: CLIENT, ...iceOptions };
  if (signaling) options.signaling = signaling;
  if (prepared) options.prepared = prepared;
  const current = new Call(options);
  call = current;
  view.attach(current);
  current.on('closed', ({ reason }) => ended(current, reason));
  try {
    await current.join();
  } catch (error) {
    call = null;
    view.detach();
    for (const track of localStream.getTracks()) track.stop();
    showNotice(error instanceof Error && 'id' in error ? String(error.id) : 'unknown');
    setJoining(false);
    media.acquire();
    openLobbySession();
    return;
  }

  localStorage.setItem(NAME_KEY, name);
  // The troubleshooting query (if any) stays, so that a reload keeps it.
  history.replaceState(null, '', new URL(`r/${encodeURIComponent(room)}${location.search}`, document.baseURI));
  setJoining(false);
  lobby.hidden = true;
  callSection.hidden = false;
  view.show(note);
}

/**
 * The call is over: back to the lobby, saying why unless we chose to leave.
 * @param {Call} ended
 * @param {string} reason
 */
function ended(ended, reason) {
  if (call !== ended) return;
  call = null;
  view.detach();
  callSection.hidden = true;
  lobby.hidden = false;
  if (reason !== 'hangup') showNotice(reason);
  media.acquire();
  // A page being hidden for good needs no new session.
  if (reason !== 'pagehide') openLobbySession();
}

function openLobbySession() {
  lobbySession = new SignalingClient({ url: signalingUrl(), client: CLIENT });
  // Every welcome: a server restarted meanwhile may have a new TURN secret, and the old allocations are gone.
  lobbySession.on('welcome', () => prepareOffer());
  // A failure shows when Join is clicked: the Call then connects by itself and reports what went wrong.
  lobbySession.connect().catch(() => {});
}

/** (Re)makes the lobby's prepared offer once its session is open and the preview settled. */
async function prepareOffer() {
  const session = lobbySession;
  await media.settled();
  if (call || !session || session !== lobbySession || session.state !== 'open' || !session.welcome) return;
  const { iceServers, iceServersExpireAtMs } = session.welcome;
  dropOffer();
  const localStream = media.stream ?? new MediaStream();
  /** @type {import('../client/index.js').PreparedOfferOptions} */
  const options = { iceServers: filterIceServers(iceServers, iceOptions.iceTransports), localStream };
  if (iceServersExpireAtMs !== undefined) options.iceServersExpireAtMs = iceServersExpireAtMs;
  if (iceOptions.iceTransportPolicy) options.iceTransportPolicy = iceOptions.iceTransportPolicy;
  lobbyOffer = new PreparedOffer(options);
  // Renewed a little before the Call would find it too old (with fresh credentials from the session).
  lobbyOfferRenewal = setTimeout(() => prepareOffer(), PREPARED_OFFER_MAX_AGE_MS - 30_000);
}

/** The lobby's prepared offer, for the Call (which closes it if it does not fit); the lobby forgets it. */
function takeOffer() {
  const offer = lobbyOffer;
  lobbyOffer = null;
  clearTimeout(lobbyOfferRenewal);
  return offer;
}

function dropOffer() {
  takeOffer()?.close();
}

/** @param {import('../client/index.js').SendKinds} a @param {import('../client/index.js').SendKinds} b */
function sameKinds(a, b) {
  return a.audio === b.audio && a.video === b.video;
}

/**
 * The lobby's session for the Call to join on, if it is up or on its way up. One that is reconnecting (or
 * failed) is closed instead: the Call's own connection attempt says at once whether the server is reachable.
 */
function takeLobbySession() {
  const session = lobbySession;
  lobbySession = null;
  if (session?.state === 'open' || session?.state === 'connecting') return session;
  session?.close('not-used');
  return null;
}

/** @param {string} id a signaling error id (or a local one) */
function showNotice(id) {
  notice.hidden = false;
  notice.dataset.errorId = id;
  const key = `error.${id}`;
  if (hasMessage(key)) setText(notice, key);
  else setText(notice, 'error.unknown', { id });
}

/** @param {boolean} joining */
function setJoining(joining) {
  for (const button of joinButtons) button.disabled = joining;
  setText(joinButtons[0], joining ? 'lobby.joining' : 'lobby.join');
}

/** The WebSocket endpoint next to the page's base: <base>ws. */
function signalingUrl() {
  const url = new URL('ws', document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

/** The room of an invite link (<base>r/<room>), URL-decoded. */
function roomFromPath() {
  const base = new URL(document.baseURI).pathname;
  if (!location.pathname.startsWith(base)) return null;
  const match = /^r\/([^/]+)\/?$/.exec(location.pathname.slice(base.length));
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

function setUpLanguage() {
  const select = /** @type {HTMLSelectElement} */ (byId('lang'));
  const lang = initialLanguage();
  select.value = lang;
  setLanguage(lang);
  select.addEventListener('change', () => setLanguage(select.value === 'zh-CN' ? 'zh-CN' : 'en'));
}

/** Hooks for the end-to-end tests; the contract is in ui/README.md. */
function installTestHooks() {
  /** @type {any} */ (window).parley = {
    peerId: () => call?.peerId ?? null,
    peerIds: () => view.peerIds,
    signalingState: () => {
      const state = call?.signalingState ?? 'closed';
      return state === 'idle' ? 'connecting' : state;
    },
    lobbySignalingState: () => lobbySession?.state ?? 'closed',
    lobbyPeerId: () => lobbySession?.peerId ?? null,
    stats: async () => JSON.stringify(call ? await call.stats() : []),
    renegotiateAll: () => {
      for (const link of call?.links.values() ?? []) link.forceRestartIce();
    },
    connectionIds: () => [...(call?.links.values() ?? [])].map((link) => String(link.connectionId)),
    lobbyOfferSessionId: () => {
      const sdp = lobbyOffer?.pc.localDescription?.sdp;
      return sdp ? sessionIdOf(sdp) : null;
    },
    lobbyOfferState: () => {
      if (!lobbyOffer) return 'none';
      return lobbyOffer.pc.localDescription && lobbyOffer.pc.iceGatheringState === 'complete' ? 'ready' : 'gathering';
    },
    spareReady: () => call?.spareReady ?? false,
    localSessionIds: () => [...(call?.links.values() ?? [])].map((link) => sessionIdOf(link.pc.localDescription?.sdp ?? '')),
  };
}
