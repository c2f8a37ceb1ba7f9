// The call screen: one tile per participant and the controls. It only consumes a Call from web/client.
import { getLocalMedia, listDevices, MediaAccessError } from '../client/index.js';
import { byId, fillDeviceSelect, initialsOf, playWithSound } from './dom.js';
import { setText, t } from './i18n.js';

/** @import {Call, Member, PeerState} from '../client/index.js' */
/** @import {MessageKey} from './i18n.js' */

/** @type {Partial<Record<PeerState, MessageKey>>} */
const STATUS_TEXT = {
  new: 'tile.connecting',
  connecting: 'tile.connecting',
  disconnected: 'tile.reconnecting',
  reconnecting: 'tile.reconnecting',
  failed: 'tile.failed',
};

const TOAST_MS = 4_000;

export class CallView {
  /** @type {Call | null} */ #call = null;
  /** @type {Map<string, HTMLElement>} remote tiles by peer id */ #tiles = new Map();
  /** @type {HTMLElement | null} */ #localTile = null;
  /** @type {(() => void)[]} */ #unsubscribe = [];
  /** @type {ReturnType<typeof setTimeout> | undefined} */ #toastTimer;
  #tilesBox = byId('tiles');
  #template = /** @type {HTMLTemplateElement} */ (byId('tile-template'));
  #micButton = byId('toggle-mic');
  #cameraButton = byId('toggle-camera');
  #cameraSelect = /** @type {HTMLSelectElement} */ (byId('call-camera-select'));
  #micSelect = /** @type {HTMLSelectElement} */ (byId('call-mic-select'));
  #unmuteAudio = byId('unmute-audio');
  #signalingStatus = byId('signaling-status');
  #turnHint = byId('turn-hint');
  /** @type {Set<string>} peers whose connection got the "TURN is probably needed" hint and is still not up */
  #hinted = new Set();

  constructor() {
    this.#micButton.addEventListener('click', () => this.#toggle('audio'));
    this.#cameraButton.addEventListener('click', () => this.#toggle('video'));
    this.#cameraSelect.addEventListener('change', () => this.#switchDevice('video', this.#cameraSelect.value));
    this.#micSelect.addEventListener('change', () => this.#switchDevice('audio', this.#micSelect.value));
    byId('copy-link').addEventListener('click', () => this.#copyLink());
    byId('hangup').addEventListener('click', () => this.#call?.hangUp());
    this.#unmuteAudio.addEventListener('click', () => this.#resumeSound());
  }

  /** Remote peer ids that have a tile. */
  get peerIds() { return [...this.#tiles.keys()]; }

  /**
   * Shows `call` from now on. Call it before call.join(), so no member event is missed.
   * @param {Call} call
   */
  attach(call) {
    this.detach();
    this.#call = call;
    this.#unsubscribe = [
      call.on('member-joined', (member) => this.#upsertTile(member)),
      call.on('member-updated', (member) => this.#upsertTile(member)),
      call.on('member-left', ({ peerId }) => {
        this.#removeTile(peerId);
        this.#setHint(peerId, false);
      }),
      call.on('peer-state', ({ peerId, state }) => {
        this.#showPeerState(peerId, state);
        if (state === 'connected') this.#setHint(peerId, false);
      }),
      call.on('turn-needed', ({ peerId }) => this.#setHint(peerId, true)),
      call.on('remote-stream', ({ peerId, stream }) => this.#showStream(peerId, stream)),
      call.on('signaling-state', (state) => { this.#signalingStatus.hidden = state !== 'reconnecting'; }),
      call.on('error', (error) => console.warn('parley:', error.message)),
    ];
  }

  /** Once joined: the local tile, the room name, the controls. @param {string} [message] a note to show (translated key) */
  show(/** @type {MessageKey | undefined} */ message) {
    const call = this.#call;
    if (!call) return;
    setText(byId('room-label'), 'call.room', { room: call.room });
    const note = byId('call-message');
    note.hidden = !message;
    if (message) setText(note, message);
    this.#localTile = this.#createTile(call.name, true);
    this.#tilesBox.prepend(this.#localTile);
    this.#showLocal();
    this.#refreshDevices();
    this.#updateAlone();
  }

  /** Forgets the call and clears the screen. */
  detach() {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#call = null;
    this.#tiles.clear();
    this.#localTile = null;
    this.#tilesBox.replaceChildren();
    this.#unmuteAudio.hidden = true;
    this.#signalingStatus.hidden = true;
    this.#hinted.clear();
    this.#turnHint.hidden = true;
    byId('toast').hidden = true;
  }

  // ---- tiles ----

  /** @param {string} name @param {boolean} local */
  #createTile(name, local) {
    const tile = /** @type {HTMLElement} */ (/** @type {DocumentFragment} */ (this.#template.content.cloneNode(true)).firstElementChild);
    tile.classList.toggle('local', local);
    const label = /** @type {HTMLElement} */ (tile.querySelector('.tile-name'));
    if (local) setText(label, 'call.you');
    else label.textContent = name;
    /** @type {HTMLElement} */ (tile.querySelector('.tile-avatar')).dataset.initials = initialsOf(name);
    if (local) tile.dataset.connection = 'connected';
    return tile;
  }

  /** @param {Member} member */
  #upsertTile(member) {
    let tile = this.#tiles.get(member.peerId);
    if (!tile) {
      tile = this.#createTile(member.name, false);
      tile.dataset.peerId = member.peerId;
      this.#tiles.set(member.peerId, tile);
      this.#tilesBox.append(tile);
      this.#showPeerState(member.peerId, this.#call?.peerState(member.peerId) ?? 'new');
      const stream = this.#call?.links.get(member.peerId)?.remoteStream;
      if (stream) this.#showStream(member.peerId, stream);
    }
    /** @type {HTMLElement} */ (tile.querySelector('.tile-name')).textContent = member.name;
    tile.dataset.audio = member.audio ? 'on' : 'off';
    tile.dataset.video = member.video ? 'on' : 'off';
    tile.dataset.away = String(member.away);
    this.#updateAlone();
  }

  /** @param {string} peerId */
  #removeTile(peerId) {
    this.#tiles.get(peerId)?.remove();
    this.#tiles.delete(peerId);
    this.#updateAlone();
  }

  /** @param {string} peerId @param {PeerState} state */
  #showPeerState(peerId, state) {
    const tile = this.#tiles.get(peerId);
    if (!tile) return;
    tile.dataset.connection = state;
    const status = /** @type {HTMLElement} */ (tile.querySelector('.tile-status'));
    const key = STATUS_TEXT[state];
    if (key) setText(status, key);
    else {
      delete status.dataset.i18n;
      status.textContent = '';
    }
  }

  /** @param {string} peerId @param {MediaStream} stream */
  #showStream(peerId, stream) {
    const video = this.#tiles.get(peerId)?.querySelector('video');
    if (!video) return;
    if (video.srcObject !== stream) video.srcObject = stream;
    playWithSound(video, () => { this.#unmuteAudio.hidden = false; });
  }

  /**
   * The "TURN is probably needed" banner, shown while any peer that got the hint is still not connected;
   * that peer's tile is marked too (`data-turn-hint`).
   * @param {string} peerId
   * @param {boolean} on
   */
  #setHint(peerId, on) {
    if (on) this.#hinted.add(peerId);
    else this.#hinted.delete(peerId);
    const tile = this.#tiles.get(peerId);
    if (tile) {
      if (on) tile.dataset.turnHint = 'true';
      else delete tile.dataset.turnHint;
    }
    this.#turnHint.hidden = this.#hinted.size === 0;
  }

  #resumeSound() {
    for (const video of this.#tilesBox.querySelectorAll('.tile:not(.local) video')) {
      if (!(video instanceof HTMLVideoElement)) continue;
      video.muted = false;
      video.play().catch(() => {});
    }
    this.#unmuteAudio.hidden = true;
  }

  #updateAlone() {
    byId('alone').hidden = this.#tiles.size > 0 || !this.#call;
  }

  // ---- local media and controls ----

  #showLocal() {
    const call = this.#call;
    const tile = this.#localTile;
    if (!call || !tile) return;
    const video = /** @type {HTMLVideoElement} */ (tile.querySelector('video'));
    video.muted = true;
    video.srcObject = call.localStream;
    video.play().catch(() => {});
    const { audio, video: camera } = call.mediaState;
    tile.dataset.audio = audio ? 'on' : 'off';
    tile.dataset.video = camera ? 'on' : 'off';
    this.#setPressed(this.#micButton, !audio, audio ? 'call.mute' : 'call.muted');
    this.#setPressed(this.#cameraButton, !camera, camera ? 'call.cameraOff' : 'call.cameraOffPressed');
  }

  /**
   * @param {HTMLElement} button
   * @param {boolean} pressed
   * @param {MessageKey} label
   */
  #setPressed(button, pressed, label) {
    button.setAttribute('aria-pressed', String(pressed));
    button.dataset.i18nTitle = label;
    button.dataset.i18nAriaLabel = label;
    button.title = t(label);
    button.setAttribute('aria-label', t(label));
  }

  /** Mute/unmute or camera off/on; turning on a kind we never had asks for the device. @param {'audio' | 'video'} kind */
  async #toggle(kind) {
    const call = this.#call;
    if (!call) return;
    const on = call.mediaState[kind];
    const hasTrack = call.localStream.getTracks().some((track) => track.kind === kind);
    if (!on && !hasTrack) {
      const deviceId = (kind === 'audio' ? this.#micSelect : this.#cameraSelect).value;
      await this.#switchDevice(kind, deviceId);
    }
    if (kind === 'audio') call.setAudioEnabled(!on);
    else call.setVideoEnabled(!on);
    this.#showLocal();
  }

  /**
   * Sends another camera or microphone (replaceTrack: no renegotiation).
   * @param {'audio' | 'video'} kind
   * @param {string} deviceId '' for the default
   */
  async #switchDevice(kind, deviceId) {
    const call = this.#call;
    if (!call) return;
    const request = { audio: kind === 'audio' && (deviceId || true), video: kind === 'video' && (deviceId || true) };
    let stream;
    try {
      stream = await getLocalMedia(request);
    } catch (error) {
      // Phones often cannot open a second camera while the first runs: release it and retry once.
      if (!(error instanceof MediaAccessError) || error.kind !== 'NotReadableError') return this.#mediaFailed(error);
      for (const track of call.localStream.getTracks()) if (track.kind === kind) track.stop();
      try {
        stream = await getLocalMedia(request);
      } catch (retryError) {
        return this.#mediaFailed(retryError);
      }
    }
    const track = stream.getTracks().find((candidate) => candidate.kind === kind) ?? null;
    await call.replaceTrack(kind, track);
    this.#showLocal();
    this.#refreshDevices();
  }

  /** @param {unknown} error */
  #mediaFailed(error) {
    this.#toast(error instanceof MediaAccessError ? `media.${error.kind}` : 'media.switchFailed');
    this.#refreshDevices();
  }

  async #refreshDevices() {
    const call = this.#call;
    if (!call) return;
    const { cameras, microphones, hidden } = await listDevices();
    const none = hidden ? 'lobby.defaultDevice' : 'lobby.noDevice';
    const inUse = (/** @type {'audio' | 'video'} */ kind) =>
      call.localStream.getTracks().find((track) => track.kind === kind)?.getSettings().deviceId;
    fillDeviceSelect(this.#cameraSelect, cameras, inUse('video'), 'lobby.cameraN', none);
    fillDeviceSelect(this.#micSelect, microphones, inUse('audio'), 'lobby.microphoneN', none);
  }

  async #copyLink() {
    const call = this.#call;
    if (!call) return;
    const link = new URL(`r/${encodeURIComponent(call.room)}`, document.baseURI).href;
    try {
      await navigator.clipboard.writeText(link);
      this.#toast('call.copied');
    } catch {
      this.#toast('call.copyFailed', { link });
    }
  }

  /** @param {MessageKey} key @param {Record<string, string>} [args] */
  #toast(key, args) {
    const toast = byId('toast');
    setText(toast, key, args);
    toast.hidden = false;
    clearTimeout(this.#toastTimer);
    this.#toastTimer = setTimeout(() => { toast.hidden = true; }, TOAST_MS);
  }
}
