// Local camera and microphone: asking for them, listing them, and naming what went wrong.

/**
 * Why getUserMedia failed, by DOMException name:
 * - `NotAllowedError`: the user or a policy blocked access (also SecurityError).
 * - `NotFoundError`: no such device.
 * - `NotReadableError`: the device exists but could not be started, usually because another app holds it
 *   (also AbortError, which Firefox uses for that).
 * - `OverconstrainedError`: the chosen device (an exact deviceId) is not there any more.
 * - `other`: anything else, including a page without a secure context (no navigator.mediaDevices).
 * @typedef {'NotAllowedError' | 'NotFoundError' | 'NotReadableError' | 'OverconstrainedError' | 'other'} MediaErrorKind
 */

/**
 * What to capture: false for nothing, true for the default device, or a deviceId from listDevices().
 * @typedef {object} MediaRequest
 * @property {boolean | string} audio
 * @property {boolean | string} video
 */

/** A modest default: a mesh sends every video to every peer (about 1 Mbit/s each). */
const VIDEO_DEFAULTS = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } };

/** getUserMedia failed; `kind` is the classification and `cause` the browser's error. */
export class MediaAccessError extends Error {
  /**
   * @param {MediaErrorKind} kind
   * @param {unknown} cause
   */
  constructor(kind, cause) {
    super(`${kind}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'MediaAccessError';
    this.kind = kind;
  }
}

/**
 * @param {unknown} error what getUserMedia threw
 * @returns {MediaErrorKind}
 */
export function classifyMediaError(error) {
  const name = error instanceof Error || (typeof error === 'object' && error !== null && 'name' in error)
    ? String(/** @type {{name: unknown}} */ (error).name)
    : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return 'NotAllowedError';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
      return 'NotFoundError';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'NotReadableError';
    case 'OverconstrainedError':
    case 'ConstraintNotSatisfiedError':
      return 'OverconstrainedError';
    default:
      return 'other';
  }
}

/**
 * Asks for camera and/or microphone. Returns an empty stream when nothing is requested (receive-only).
 * @param {MediaRequest} request
 * @returns {Promise<MediaStream>}
 * @throws {MediaAccessError}
 */
export async function getLocalMedia({ audio, video }) {
  if (!audio && !video) return new MediaStream();
  if (!navigator.mediaDevices?.getUserMedia)
    throw new MediaAccessError('other', new Error('camera and microphone need a secure context (https or localhost)'));
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: audioConstraints(audio), video: videoConstraints(video) });
  } catch (error) {
    throw new MediaAccessError(classifyMediaError(error), error);
  }
}

/**
 * Cameras and microphones that can be picked by id. Before the page has been granted access, browsers
 * hide ids and labels: then the lists are empty and `hidden` says that devices exist but are not shown.
 * @returns {Promise<{cameras: MediaDeviceInfo[], microphones: MediaDeviceInfo[], hidden: boolean}>}
 */
export async function listDevices() {
  const devices = (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
  const media = devices.filter((d) => d.kind === 'videoinput' || d.kind === 'audioinput');
  return {
    cameras: media.filter((d) => d.kind === 'videoinput' && d.deviceId),
    microphones: media.filter((d) => d.kind === 'audioinput' && d.deviceId),
    hidden: media.some((d) => !d.deviceId),
  };
}

/**
 * Stops every track of a stream (turns the camera light off).
 * @param {MediaStream | null | undefined} stream
 */
export function stopStream(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** @param {boolean | string} audio @returns {boolean | MediaTrackConstraints} */
function audioConstraints(audio) {
  if (typeof audio !== 'string') return audio;
  return { deviceId: { exact: audio } };
}

/** @param {boolean | string} video @returns {boolean | MediaTrackConstraints} */
function videoConstraints(video) {
  if (!video) return false;
  return typeof video === 'string' ? { ...VIDEO_DEFAULTS, deviceId: { exact: video } } : VIDEO_DEFAULTS;
}
