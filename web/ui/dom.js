// Small DOM helpers for the app.
import { setText } from './i18n.js';

/** @import {MessageKey} from './i18n.js' */

/**
 * The element with this id, which the page is known to contain (index.html is the contract).
 * @template {HTMLElement} [E=HTMLElement]
 * @param {string} id
 * @returns {E}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return /** @type {E} */ (element);
}

/**
 * Fills a device picker; keeps `selectedId` selected when it is in the list. Labels the browser does not
 * give are translated (and follow language switches).
 * @param {HTMLSelectElement} select
 * @param {MediaDeviceInfo[]} devices
 * @param {string | undefined} selectedId
 * @param {MessageKey} unnamedKey for a device without a label, with {n}
 * @param {MessageKey} noneKey the single, disabled entry when there is no device to pick
 */
export function fillDeviceSelect(select, devices, selectedId, unnamedKey, noneKey) {
  select.replaceChildren(...devices.map((device, index) => {
    const option = new Option(device.label, device.deviceId, false, device.deviceId === selectedId);
    if (!device.label) setText(option, unnamedKey, { n: index + 1 });
    return option;
  }));
  if (devices.length === 0) {
    const none = new Option('', '', true, true);
    setText(none, noneKey);
    select.append(none);
  }
  select.disabled = devices.length === 0;
}

/**
 * Up to two initials for an avatar: "Ana Bo" → "AB", "小明" → "小".
 * @param {string} name
 */
export function initialsOf(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const firsts = (words.length > 1 ? [words[0], words[words.length - 1]] : words).map((w) => [...w][0] ?? '');
  return firsts.join('').toLocaleUpperCase();
}

/**
 * Plays a media element; if the browser's autoplay policy refuses sound, plays it muted and reports it.
 * @param {HTMLMediaElement} media
 * @param {() => void} onSoundBlocked
 */
export function playWithSound(media, onSoundBlocked) {
  media.play().catch((error) => {
    if (error?.name !== 'NotAllowedError') return;
    media.muted = true;
    media.play().catch(() => {});
    onSoundBlocked();
  });
}
