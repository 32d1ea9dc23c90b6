// Bytes a visit downloads, as Chromium's DevTools protocol counts them: Network.loadingFinished's
// encodedDataLength (headers + body as they came over the wire; a cache hit costs 0), for the page
// and for every worker it starts. Playwright's CDPSession cannot talk to a page's workers, so this
// speaks CDP itself on the browser's debugging socket, in flat mode (one socket, a session per target).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { CHROMIUM_PATH, chromiumArgs, launchChromium, openPage } from './browser.ts';

export interface Download {
  url: string;
  /** HTTP status (0 when the request failed). */
  status: number;
  /** Bytes on the wire: response headers and (encoded) body. */
  bytes: number;
  /** Served from the HTTP cache or a service worker, not the network. */
  cached: boolean;
  /** The target that asked: page, worker, service_worker, … */
  target: string;
}

interface Pending {
  url: string;
  target: string;
  status: number;
}

type CdpMessage = { id?: number; method?: string; params?: Record<string, unknown>; sessionId?: string; result?: unknown; error?: { message: string } };

const AUTO_ATTACH = { autoAttach: true, waitForDebuggerOnStart: true, flatten: true };
const TRACKED_TARGETS = new Set(['page', 'iframe', 'worker', 'shared_worker', 'service_worker']);

export class DownloadMeter {
  readonly downloads: Download[] = [];
  private readonly pending = new Map<string, Pending>();
  /** Responses that came from the network (the network service reported their raw headers), by request id. */
  private readonly fromNetwork = new Map<string, { contentLength: number }>();
  private readonly calls = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 1;
  private lastActivityMs = performance.now();
  /** Targets whose network events this meter receives. */
  readonly attached: string[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.onMessage(JSON.parse(String(data)) as CdpMessage));
  }

  /** Connects to a Chromium started with `--remote-debugging-port=0 --user-data-dir=<profileDir>`. */
  static async connect(profileDir: string, timeoutMs = 15_000): Promise<DownloadMeter> {
    // Chromium writes the port it picked, and the browser target's path, into this file.
    const file = path.join(profileDir, 'DevToolsActivePort');
    const deadline = performance.now() + timeoutMs;
    while (!existsSync(file) || readFileSync(file, 'utf8').split('\n').length < 2) {
      if (performance.now() > deadline) throw new Error(`Chromium wrote no ${file}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [port, browserPath] = readFileSync(file, 'utf8').split('\n');
    const socket = new WebSocket(`ws://127.0.0.1:${port}${browserPath}`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
    const meter = new DownloadMeter(socket);
    await meter.send('Target.setAutoAttach', AUTO_ATTACH);
    return meter;
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<unknown> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => this.calls.set(id, { resolve, reject }));
  }

  /** Waits until no request is in flight and none has started or ended for `quietMs`. */
  async settle(quietMs: number, timeoutMs = 60_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.pending.size > 0 || performance.now() - this.lastActivityMs < quietMs) {
      if (performance.now() > deadline) throw new Error(`downloads still in flight: ${[...this.pending.values()].map((p) => p.url).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  close(): void {
    this.socket.close();
  }

  private onMessage(message: CdpMessage): void {
    if (message.id !== undefined) {
      const call = this.calls.get(message.id);
      this.calls.delete(message.id);
      if (message.error) call?.reject(new Error(message.error.message));
      else call?.resolve(message.result);
      return;
    }
    const params = message.params ?? {};
    // Request ids are unique browser-wide; a worker's own script is announced to the page's session
    // and finishes in the worker's, so the id alone is the key.
    const key = String(params.requestId);
    switch (message.method) {
      case 'Target.attachedToTarget':
        void this.attach(params.sessionId as string, params.targetInfo as { type: string; url: string });
        return;
      case 'Network.requestWillBeSent': {
        const target = this.attached.find((a) => a.startsWith(`${message.sessionId} `))?.split(' ')[1] ?? '?';
        const url = (params.request as { url: string }).url;
        if (url.startsWith('data:') || url.startsWith('blob:') || this.pending.has(key)) return;
        this.pending.set(key, { url, target, status: 0 });
        this.lastActivityMs = performance.now();
        return;
      }
      case 'Network.responseReceivedExtraInfo': {
        const headers = params.headers as Record<string, string>;
        const length = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-length')?.[1];
        this.fromNetwork.set(key, { contentLength: Number(length ?? 0) });
        return;
      }
      case 'Network.responseReceived': {
        const pending = this.pending.get(key);
        if (pending) pending.status = (params.response as { status: number }).status;
        return;
      }
      case 'Network.loadingFinished':
      case 'Network.loadingFailed': {
        const pending = this.pending.get(key);
        if (!pending) return;
        this.pending.delete(key);
        const finished = message.method === 'Network.loadingFinished';
        const network = this.fromNetwork.get(key);
        this.fromNetwork.delete(key);
        // A dedicated worker's own script is fetched before its target exists, and Chromium then
        // reports only its headers: the body's Content-Length is the floor.
        const bytes = finished ? Math.max(Number(params.encodedDataLength), network?.contentLength ?? 0) : 0;
        this.downloads.push({ url: pending.url, status: finished ? pending.status : 0, bytes, cached: network === undefined, target: pending.target });
        this.lastActivityMs = performance.now();
        return;
      }
    }
  }

  /** Watches a new target's network, and its own children (a page's workers), before it runs. */
  private async attach(sessionId: string, info: { type: string; url: string }): Promise<void> {
    try {
      if (TRACKED_TARGETS.has(info.type)) {
        await Promise.all([this.send('Network.enable', {}, sessionId), this.send('Target.setAutoAttach', AUTO_ATTACH, sessionId)]);
        this.attached.push(`${sessionId} ${info.type}`);
      }
    } finally {
      await this.send('Runtime.runIfWaitingForDebugger', {}, sessionId).catch(() => undefined);
    }
  }
}

export interface VisitOptions {
  /** Chromium profile: the same folder for a returning visitor (its HTTP cache and service workers persist). */
  profileDir: string;
  url: string;
  /** The fake camera's video. */
  y4m: string;
  /** Resolves when the visit has what it came for (the call is running). */
  ready(page: Page): Promise<void>;
  /** No new request for this long after `ready`: the visit is over. */
  quietMs?: number;
}

/** One visit in a fresh Chromium on `profileDir`; what it downloaded until it was ready and quiet. */
export async function measureVisit(options: VisitOptions): Promise<Download[]> {
  rmSync(path.join(options.profileDir, 'DevToolsActivePort'), { force: true }); // a previous run's port
  const context = await chromium.launchPersistentContext(options.profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...chromiumArgs(options.y4m), '--remote-debugging-port=0'],
    permissions: ['camera', 'microphone'],
  });
  let meter: DownloadMeter | undefined;
  try {
    meter = await DownloadMeter.connect(options.profileDir);
    const page = context.pages()[0] ?? (await context.newPage());
    const deadline = performance.now() + 10_000;
    while (!meter.attached.some((a) => a.endsWith(' page'))) {
      if (performance.now() > deadline) throw new Error('the download meter did not attach to the page');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await page.goto(options.url);
    await options.ready(page);
    await meter.settle(options.quietMs ?? 3000);
    return [...meter.downloads];
  } finally {
    meter?.close();
    await context.close();
  }
}

/** Downloads summed per URL path (query strings dropped), largest first. */
export function byPath(downloads: Download[]): { path: string; requests: number; network: number; bytes: number }[] {
  const rows = new Map<string, { path: string; requests: number; network: number; bytes: number }>();
  for (const d of downloads) {
    const key = new URL(d.url).pathname;
    const row = rows.get(key) ?? { path: key, requests: 0, network: 0, bytes: 0 };
    row.requests++;
    if (!d.cached) row.network++;
    row.bytes += d.bytes;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => b.bytes - a.bytes);
}

/** The call has started: the page's kiloface sender and its receiver for the other person both run (models loaded). */
export async function untilNeuralRunning(page: Page, timeoutMs = 240_000): Promise<void> {
  await page.waitForFunction(() => {
    const neural = window.kiloface?.neural;
    return neural?.latestSenderStatus !== undefined && neural.receiverStatus.size > 0;
  }, undefined, { timeout: timeoutMs, polling: 250 });
}

/**
 * A person joins a room of `base` where someone already is (so that its kiloface sender and
 * receiver both load), twice: first with an empty browser profile, then again with the same
 * profile after a browser restart (a returning visitor). What each visit downloaded until the
 * call ran and the network had been quiet for 3 s.
 */
export async function measureFirstAndRepeatVisit(base: string, y4m: string): Promise<{ first: Download[]; repeat: Download[] }> {
  const room = `download-${Date.now()}`;
  // The other person, in a browser of its own: its downloads are not the visitor's.
  const peerBrowser = await launchChromium(y4m);
  const profileDir = mkdtempSync(path.join(tmpdir(), 'kiloface-visitor-'));
  try {
    // `both`: on loopback `auto` would pick standard video and pause kiloface, and the visit would
    // end before the receiver's models were ever needed; a 2G visitor needs them all.
    await openPage(peerBrowser, `${base}/r/${room}?name=Peer&cap=30&video=both`);
    const visit = (): Promise<Download[]> => measureVisit({ profileDir, url: `${base}/r/${room}?name=Visitor&cap=30&video=both`, y4m, ready: (page) => untilNeuralRunning(page) });
    const first = await visit();
    const repeat = await visit();
    return { first, repeat };
  } finally {
    await peerBrowser.close();
    rmSync(profileDir, { recursive: true, force: true });
  }
}
