// The smallest client of web/client: join the room from the query string and show every remote video.
import { Call, getLocalMedia } from '../../client/index.js';

const params = new URLSearchParams(location.search);
const room = params.get('room') ?? 'example';
const name = params.get('name') ?? 'Guest';
const status = /** @type {HTMLElement} */ (document.getElementById('status'));
const videos = /** @type {HTMLElement} */ (document.getElementById('videos'));

// Send camera and microphone if we may; otherwise join receive-only.
const localStream = await getLocalMedia({ audio: true, video: true }).catch(() => new MediaStream());
/** @type {HTMLVideoElement} */ (document.getElementById('local')).srcObject = localStream;

// The signaling endpoint sits next to examples/ at <base>/ws.
const url = new URL('../../ws', import.meta.url);
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

const call = new Call({ url, room, name, localStream, client: 'parley-minimal-example' });
call.on('remote-stream', ({ peerId, stream }) => videoFor(peerId).srcObject = stream);
call.on('member-left', ({ peerId }) => document.getElementById(`peer-${peerId}`)?.remove());
call.on('closed', ({ reason }) => status.textContent = `Call ended (${reason}).`);

try {
  await call.join();
  status.textContent = `In room "${room}" as ${name}.`;
} catch (error) {
  status.textContent = `Could not join: ${error instanceof Error ? error.message : error}`;
}

/** @param {string} peerId */
function videoFor(peerId) {
  let video = /** @type {HTMLVideoElement | null} */ (document.getElementById(`peer-${peerId}`));
  if (!video) {
    video = Object.assign(document.createElement('video'), { id: `peer-${peerId}`, autoplay: true, playsInline: true });
    videos.append(video);
  }
  return video;
}
