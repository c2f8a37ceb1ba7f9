// Test doubles shared by the unit tests: a WebSocket the test plays the server on, an RTCPeerConnection that
// records what the library does to it, and a MediaStream without tracks.
import assert from 'node:assert/strict';
import { mock } from 'node:test';

/** A WebSocket double: the test plays the server. */
export class FakeSocket {
  /** @type {FakeSocket[]} */
  static all = [];
  readyState = 0;
  /** @type {any[]} */
  sent = [];
  closedWith = /** @type {number | null} */ (null);
  onopen = /** @type {any} */ (null);
  onmessage = /** @type {any} */ (null);
  onclose = /** @type {any} */ (null);

  /** @param {string | URL} url */
  constructor(url) {
    this.url = String(url);
    FakeSocket.all.push(this);
  }

  /** @param {string} text */
  send(text) {
    assert.equal(this.readyState, 1, 'send on a socket that is not open');
    this.sent.push(JSON.parse(text));
  }

  /** @param {number} code */
  close(code) {
    this.closedWith = code;
    this.readyState = 3;
  }

  // ---- the server's side ----
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** @param {object} message */
  deliver(message) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  /** @param {number} code */
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }

  /** @param {string} type */
  sentOf(type) {
    return this.sent.filter((m) => m.type === type);
  }
}

/** An RTCPeerConnection double: offers and answers are placeholders; the test sets the states and the selected pair. */
export class FakePeerConnection {
  /** @type {FakePeerConnection[]} */
  static all = [];
  static #sessions = 0;
  /** The SDP session id of this connection's descriptions (a PeerLink tells connections apart by it). */
  sessionId = String(++FakePeerConnection.#sessions);
  connectionState = 'new';
  iceConnectionState = 'new';
  signalingState = 'stable';
  remoteDescription = null;
  localDescription = null;
  /** The local candidate type of the selected pair that getStats reports (null: no pair). */
  selectedLocalType = /** @type {string | null} */ (null);
  restarts = 0;
  /** @type {any[]} every setConfiguration */
  configurations = [];
  onnegotiationneeded = /** @type {any} */ (null);
  onicecandidate = /** @type {any} */ (null);
  ontrack = /** @type {any} */ (null);
  onconnectionstatechange = /** @type {any} */ (null);
  onsignalingstatechange = /** @type {any} */ (null);

  /** @param {any} configuration */
  constructor(configuration) {
    this.configuration = configuration;
    FakePeerConnection.all.push(this);
  }

  getConfiguration() { return this.configuration; }
  /** @param {any} configuration */
  setConfiguration(configuration) {
    this.configuration = configuration;
    this.configurations.push(configuration);
  }
  createDataChannel() { return {}; }
  /** @param {string} kind @param {any} [init] */
  addTransceiver(kind, init) { return this.#addTransceiver(kind, null, init?.direction ?? 'sendrecv'); }
  /** @param {any} track */
  addTrack(track) { return this.#addTransceiver(track.kind, track, 'sendrecv').sender; }
  getTransceivers() { return [...this.transceivers]; }
  /** @type {any[]} */
  transceivers = [];
  iceGatheringState = 'new';
  restartIce() {
    this.restarts++;
    this.onnegotiationneeded?.();
  }

  async createAnswer() {
    return { type: 'answer', sdp: `v=0\r\no=- ${this.sessionId} 1 IN IP4 127.0.0.1\r\n` };
  }

  /** Without a description: an offer in `stable`, an answer after a remote offer (as browsers do). @param {any} [description] */
  async setLocalDescription(description) {
    const type = description?.type ?? (this.signalingState === 'have-remote-offer' ? 'answer' : 'offer');
    this.localDescription = { type, sdp: `v=0\r\no=- ${this.sessionId} 1 IN IP4 127.0.0.1\r\n` };
    this.#setSignalingState(type === 'offer' ? 'have-local-offer' : 'stable');
  }

  /** @param {any} description */
  async setRemoteDescription(description) {
    this.remoteDescription = description;
    this.#setSignalingState(description.type === 'offer' ? 'have-remote-offer' : 'stable');
  }

  async addIceCandidate() {}

  /** @param {string} kind @param {any} track @param {string} direction */
  #addTransceiver(kind, track, direction) {
    /** @type {any} */
    const transceiver = {
      mid: null, direction, currentDirection: null, receiver: { track: { kind } },
      sender: { track, replaceTrack: async (/** @type {any} */ next) => { transceiver.sender.track = next; } },
    };
    this.transceivers.push(transceiver);
    return transceiver;
  }

  /** @param {string} state */
  #setSignalingState(state) {
    // As in a browser: an exchange that completes gives every transceiver its mid.
    if (state === 'stable') this.transceivers.forEach((t, i) => { t.mid ??= String(i); t.currentDirection ??= t.direction; });
    this.signalingState = state;
    this.onsignalingstatechange?.();
  }
  close() {
    this.connectionState = 'closed';
    this.signalingState = 'closed';
  }

  async getStats() {
    const report = new Map();
    if (this.selectedLocalType) {
      report.set('T', { type: 'transport', selectedCandidatePairId: 'P' });
      report.set('P', { type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R' });
      report.set('L', { type: 'local-candidate', candidateType: this.selectedLocalType, relayProtocol: 'udp' });
      report.set('R', { type: 'remote-candidate', candidateType: 'host' });
    }
    return report;
  }

  /** The test's side: the connection state changes. @param {string} state */
  setState(state) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }

  /** The test's side: a local candidate was gathered. @param {string} type */
  gather(type) {
    this.onicecandidate?.({ candidate: { type, toJSON: () => ({ candidate: `candidate:1 1 udp 1 127.0.0.1 9 typ ${type}` }) } });
  }
}

/** A MediaStream: without tracks (all a receive-only Call needs), or with fakeTrack()s. */
export class FakeMediaStream {
  /** @type {any[]} */
  #tracks = [];
  /** @param {any[]} [tracks] */
  constructor(tracks = []) { this.#tracks = [...tracks]; }
  getTracks() { return [...this.#tracks]; }
  getAudioTracks() { return this.#tracks.filter((t) => t.kind === 'audio'); }
  getVideoTracks() { return this.#tracks.filter((t) => t.kind === 'video'); }
  /** @param {any} track */
  addTrack(track) { this.#tracks.push(track); }
  /** @param {any} track */
  removeTrack(track) { this.#tracks = this.#tracks.filter((t) => t !== track); }
}

/** A local track double. @param {'audio' | 'video'} kind */
export const fakeTrack = (kind) => ({ kind, enabled: true, stopped: false, stop() { this.stopped = true; } });

/**
 * Before each test of a Call: fresh fakes installed as the browser's WebSocket, RTCPeerConnection and
 * MediaStream, and mocked timers (reset them after each test with `mock.timers.reset()`).
 */
export function installBrowserFakes() {
  FakeSocket.all = [];
  FakePeerConnection.all = [];
  Object.assign(globalThis, { WebSocket: FakeSocket, RTCPeerConnection: FakePeerConnection, MediaStream: FakeMediaStream });
  mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
}

/**
 * The fake peer connection behind a call's link to `peerId`.
 * @param {{ links: Map<string, { pc: RTCPeerConnection }> }} call
 * @param {string} peerId
 */
export const pcOf = (call, peerId) => /** @type {FakePeerConnection} */ (/** @type {unknown} */ (call.links.get(peerId)?.pc));
