// The lobby's media side: camera preview, device pickers, and what to say when getUserMedia fails.
import { getLocalMedia, listDevices, MediaAccessError, stopStream } from '../client/index.js';
import { byId, fillDeviceSelect } from './dom.js';
import { setText } from './i18n.js';

/** @import {MediaErrorKind, SendKinds} from '../client/index.js' */

export class LobbyMedia {
  /** @type {MediaStream | null} the preview's stream, handed to the call on join */
  #stream = null;
  /** Bumped by every acquire(), so a slow getUserMedia cannot overwrite a newer one. */
  #generation = 0;
  /** The latest acquire() under way, so a join clicked before the camera is ready waits for it. */
  #acquiring = Promise.resolve();
  #preview = /** @type {HTMLVideoElement} */ (byId('preview'));
  #frame = /** @type {HTMLElement} */ (this.#preview.parentElement);
  #cameraSelect = /** @type {HTMLSelectElement} */ (byId('camera-select'));
  #micSelect = /** @type {HTMLSelectElement} */ (byId('mic-select'));
  #error = byId('media-error');

  /** @type {() => void} */ #onChange;

  /** @param {() => void} [onChange] called whenever the preview's stream was (re)acquired or failed */
  constructor(onChange) {
    this.#onChange = onChange ?? (() => {});
    this.#cameraSelect.addEventListener('change', () => this.acquire());
    this.#micSelect.addEventListener('change', () => this.acquire());
    byId('retry-media').addEventListener('click', () => this.acquire());
    navigator.mediaDevices?.addEventListener?.('devicechange', () => this.#refreshDevices());
  }

  /** The camera and microphone picked in the lobby ('' for the default). */
  get choice() {
    return { camera: this.#cameraSelect.value, microphone: this.#micSelect.value };
  }

  /**
   * (Re)starts the preview with the picked devices. On failure shows #media-error and keeps no stream.
   */
  acquire() {
    this.#acquiring = this.#acquire();
    return this.#acquiring;
  }

  async #acquire() {
    const generation = ++this.#generation;
    this.stop();
    const { camera, microphone } = this.choice;
    try {
      const stream = await getLocalMedia({ audio: microphone || true, video: camera || true });
      if (generation !== this.#generation) {
        stopStream(stream);
        return;
      }
      this.#stream = stream;
      this.#error.hidden = true;
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#showError(error instanceof MediaAccessError ? error.kind : 'other');
    }
    this.#showPreview();
    this.#onChange();
    await this.#refreshDevices();
  }

  /**
   * Hands the preview's stream over (to a call); the lobby forgets it. Waits for a camera request still under
   * way: joining before the preview appears must not join without media and leave the camera running here.
   */
  async takeStream() {
    await this.settled();
    const stream = this.#stream ?? new MediaStream();
    this.#stream = null;
    // Detaching the preview's player costs a few ms: done after the join has gone out, not before.
    setTimeout(() => this.#showPreview(), 0);
    return stream;
  }

  /** Waits until no camera request is under way (the latest acquire() has finished). */
  async settled() {
    let pending;
    do {
      pending = this.#acquiring;
      await pending;
    } while (pending !== this.#acquiring);
  }

  /** The preview's stream (what Join would send), or null when there is none. */
  get stream() { return this.#stream; }

  /** @returns {SendKinds} what a call joined now would send: the preview stream's kinds */
  get sends() {
    return { audio: (this.#stream?.getAudioTracks().length ?? 0) > 0, video: (this.#stream?.getVideoTracks().length ?? 0) > 0 };
  }

  /** Stops the preview and releases the devices. */
  stop() {
    stopStream(this.#stream);
    this.#stream = null;
    this.#showPreview();
  }

  /** @param {MediaErrorKind} kind */
  #showError(kind) {
    this.#error.hidden = false;
    this.#error.dataset.error = kind;
    setText(/** @type {HTMLElement} */ (this.#error.querySelector('.media-error-text')), `media.${kind}`);
  }

  #showPreview() {
    this.#preview.srcObject = this.#stream;
    this.#frame.classList.toggle('off', !this.#stream?.getVideoTracks().length);
  }

  async #refreshDevices() {
    const { cameras, microphones, hidden } = await listDevices();
    const none = hidden ? 'lobby.defaultDevice' : 'lobby.noDevice';
    const inUse = (/** @type {'audio' | 'video'} */ kind) =>
      this.#stream?.getTracks().find((track) => track.kind === kind)?.getSettings().deviceId;
    fillDeviceSelect(this.#cameraSelect, cameras, inUse('video') ?? this.#cameraSelect.value,
      'lobby.cameraN', none);
    fillDeviceSelect(this.#micSelect, microphones, inUse('audio') ?? this.#micSelect.value, 'lobby.microphoneN', none);
  }
}
