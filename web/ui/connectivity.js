// The "Test connectivity" panel: tests every STUN and TURN URL the server hands out, from this browser.
import { isStunUrl, SignalingClient, testIceServers, turnTransportOf, urlsOf } from '../client/index.js';
import { byId } from './dom.js';
import { setText } from './i18n.js';

/** @import {IceTestResult} from '../client/index.js' */
/** @import {MessageKey} from './i18n.js' */

export class ConnectivityPanel {
  #panel = byId('connectivity');
  #status = byId('connectivity-status');
  #body = /** @type {HTMLTableSectionElement} */ (byId('connectivity-results').querySelector('tbody'));
  #runButton = /** @type {HTMLButtonElement} */ (byId('connectivity-run'));
  /** @type {() => RTCIceServer[] | null} */ #currentIceServers;
  /** @type {string | URL} */ #signalingUrl;
  /** Bumped by every run and by close(), so a stale run stops writing. */
  #generation = 0;

  /**
   * @param {{signalingUrl: string | URL, iceServers: () => RTCIceServer[] | null}} options `iceServers` gives
   *   the call's current list, or null outside a call (the panel then asks the server for one)
   */
  constructor({ signalingUrl, iceServers }) {
    this.#signalingUrl = signalingUrl;
    this.#currentIceServers = iceServers;
    byId('connectivity-open').addEventListener('click', () => this.open());
    byId('connectivity-close').addEventListener('click', () => this.close());
    this.#runButton.addEventListener('click', () => this.#run());
    this.#panel.addEventListener('keydown', (event) => { if (event.key === 'Escape') this.close(); });
  }

  open() {
    this.#panel.hidden = false;
    byId('connectivity-close').focus();
    this.#run();
  }

  close() {
    this.#generation++;
    this.#panel.hidden = true;
    this.#runButton.disabled = false;
  }

  async #run() {
    const generation = ++this.#generation;
    const stale = () => generation !== this.#generation;
    this.#runButton.disabled = true;
    this.#body.replaceChildren();
    setText(this.#status, 'connectivity.fetching');
    /** @type {RTCIceServer[]} */
    let iceServers;
    try {
      iceServers = this.#currentIceServers() ?? await this.#fetchIceServers();
    } catch (error) {
      if (stale()) return;
      setText(this.#status, 'connectivity.fetchFailed', { reason: error instanceof Error ? error.message : String(error) });
      this.#runButton.disabled = false;
      return;
    }
    if (stale()) return;

    const urls = iceServers.flatMap(urlsOf).filter((url) => turnTransportOf(url) !== null || isStunUrl(url));
    if (urls.length === 0) {
      setText(this.#status, 'connectivity.noServers');
      this.#runButton.disabled = false;
      return;
    }
    /** @type {Map<string, HTMLTableRowElement>} */
    const rows = new Map();
    for (const url of urls) {
      if (rows.has(url)) continue;
      const row = this.#row(url);
      rows.set(url, row);
      this.#body.append(row);
    }
    let done = 0;
    let ok = 0;
    setText(this.#status, 'connectivity.running', { done, total: rows.size });
    await testIceServers(iceServers, {
      onResult: (result) => {
        if (stale()) return;
        done++;
        if (result.result === 'ok') ok++;
        const row = rows.get(result.url);
        if (row) this.#fill(row, result);
        setText(this.#status, 'connectivity.running', { done, total: rows.size });
      },
    });
    if (stale()) return;
    const hasTurnUrl = urls.some((url) => turnTransportOf(url) !== null);
    /** @type {MessageKey} */
    const summary = hasTurnUrl ? 'connectivity.done' : 'connectivity.noTurn';
    setText(this.#status, summary, { ok, total: done });
    this.#runButton.disabled = false;
  }

  /** A short signaling session, just for its `welcome.iceServers` (with credentials minted for it). */
  async #fetchIceServers() {
    const client = new SignalingClient({ url: this.#signalingUrl, client: 'parley-web-connectivity', byeOnPageHide: false });
    try {
      const welcome = await client.connect();
      return welcome.iceServers;
    } finally {
      client.close('connectivity-test');
    }
  }

  /** A row in its `running` state. @param {string} url */
  #row(url) {
    const row = document.createElement('tr');
    row.dataset.url = url;
    row.dataset.result = 'running';
    const transport = turnTransportOf(url);
    const cells = ['url', 'protocol', 'result', 'candidates', 'time'].map((name) => {
      const cell = document.createElement('td');
      cell.className = name;
      row.append(cell);
      return cell;
    });
    cells[0].textContent = url;
    cells[1].textContent = transport ? `TURN/${transport.toUpperCase()}` : 'STUN';
    setText(cells[2], 'connectivity.testing');
    return row;
  }

  /** @param {HTMLTableRowElement} row @param {IceTestResult} result */
  #fill(row, result) {
    row.dataset.result = result.result;
    if (result.relayProtocol) row.dataset.relayProtocol = result.relayProtocol;
    const [, protocol, verdict, candidates, time] = /** @type {HTMLElement[]} */ ([...row.cells]);
    if (result.kind === 'turn') {
      const relay = result.relayProtocol ? ` (relay: ${result.relayProtocol.toUpperCase()})` : '';
      protocol.textContent = `TURN/${(result.transport ?? 'udp').toUpperCase()}${relay}`;
    }
    setText(verdict, result.result === 'ok' ? 'connectivity.ok' : 'connectivity.failed');
    verdict.title = result.error ?? '';
    if (result.candidateTypes.length > 0) {
      delete candidates.dataset.i18n;
      candidates.textContent = result.candidateTypes.join(', ');
    } else {
      setText(candidates, 'connectivity.none');
    }
    if (result.connectMs !== null) setText(time, 'connectivity.ms', { ms: result.connectMs });
    else time.textContent = '—';
  }
}
