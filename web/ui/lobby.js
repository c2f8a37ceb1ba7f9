// The lobby's media side: camera preview, device pickers, and what to say when getUserMedia fails.
import { getLocalMedia, listDevices, MediaAccessError, stopStream } from '../client/index.js';
import { byId, fillDeviceSelect } from './dom.js';
import { setText } from './i18n.js';

/** @import {MediaErrorKind} from '../client/index.js' */

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

  constructor() {
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
    await this.#refreshDevices();
  }

  /**
   * Hands the preview's stream over (to a call); the lobby forgets it. Waits for a camera request still under
   * way: joining before the preview appears must not join without media and leave the camera running here.
   */
  async takeStream() {
    let pending;
    do {
      pending = this.#acquiring;
      await pending;
    } while (pending !== this.#acquiring);
    const stream = this.#stream ?? new MediaStream();
    this.#stream = null;
    this.#showPreview();
    return stream;
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
