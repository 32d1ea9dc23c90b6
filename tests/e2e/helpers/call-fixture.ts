// The e2e files' one setup: the real server and one headless Chromium per describe block, started
// in its beforeAll and closed in its afterAll, and the pages its tests open. Call it at the top of
// a describe; hooks the file registers after it run after its beforeAll and before its afterAll
// (vitest's `stack` order), so they may use the server and the browser and close what they started.
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { launchChromium, openPage, type OpenedPage } from '../../../harness/browser.ts';
import { FAKE_CAMERA_Y4M } from '../../../harness/cameras.ts';
import { startTestServer } from '../../../harness/server.ts';
import type { RunningServer } from '../../../server/app.ts';
import { DEFAULT_CONFIG, type ServerConfig } from '../../../server/config.ts';

export interface ServerOptions {
  /** The SFU: off (P2P mesh only, no mediasoup worker to start) unless given, then DEFAULT_CONFIG.sfu with these overrides. */
  sfu?: Partial<ServerConfig['sfu']>;
  /** Other settings; a function when they are known only once earlier hooks ran (a TURN server started there). */
  config?: Partial<ServerConfig> | (() => Partial<ServerConfig>);
}

export interface BrowserOptions {
  /** The fake camera's y4m, asked for in beforeAll (it may write it then); default the synthetic face of the global setup. */
  camera?: () => string | Promise<string>;
  /** The fake microphone's wav, asked for in beforeAll; default Chromium's beep. */
  audioWav?: () => string;
}

export interface ServerFixture {
  readonly server: RunningServer;
  /** Stops the server, awaits `whileDown`, and starts it again on the same port with the same settings; pages stay open. */
  restartServer(whileDown?: () => Promise<void>): Promise<void>;
}

export interface BrowserFixture {
  readonly browser: Browser;
  /** The pages openPage opened so far, in order. */
  readonly pages: readonly OpenedPage[];
  /** A fresh context with camera and microphone allowed, at `url`; its console errors print after the block. */
  openPage(url: string): Promise<OpenedPage>;
}

export interface CallFixture extends ServerFixture, BrowserFixture {
  /** openPage at a path of this block's server, e.g. `/r/${room}?name=Alice`. */
  open(pathOnServer: string): Promise<OpenedPage>;
}

/** The server alone, for blocks whose browsers are their own or whose cases start servers of their own. */
export function useTestServer(options: ServerOptions = {}): ServerFixture {
  let server: RunningServer | undefined;
  let config: Partial<ServerConfig> = {};
  beforeAll(async () => {
    const sfu = options.sfu ? { ...DEFAULT_CONFIG.sfu, ...options.sfu } : { ...DEFAULT_CONFIG.sfu, enabled: false };
    config = { sfu, ...(typeof options.config === 'function' ? options.config() : options.config) };
    server = await startTestServer(config);
  });
  afterAll(async () => {
    await server?.close();
  });
  const running = (): RunningServer => {
    if (!server) throw new Error('the test server runs only between the beforeAll and afterAll of the block that asked for it');
    return server;
  };
  return {
    get server(): RunningServer {
      return running();
    },
    async restartServer(whileDown?: () => Promise<void>): Promise<void> {
      const stopped = running();
      const port = Number(new URL(stopped.url).port);
      server = undefined;
      await stopped.close();
      await whileDown?.();
      server = await startTestServer({ ...config, port });
    },
  };
}

/** Chromium alone (fake camera and microphone), for blocks that start their servers per case. */
export function useChromium(options: BrowserOptions = {}): BrowserFixture {
  let browser: Browser | undefined;
  const pages: OpenedPage[] = [];
  /** The pages the running case opened (not those of a beforeAll, which later cases use). */
  let openedInCase: OpenedPage[] | undefined;
  beforeAll(async () => {
    const camera = options.camera ? await options.camera() : FAKE_CAMERA_Y4M;
    browser = await launchChromium(camera, options.audioWav ? { audioWav: options.audioWav() } : {});
  });
  // A case that fails (or times out) before closing its pages would leave two call ends tracking and
  // decoding beside the next cases and its own retry; on 2 cores that made every later case of
  // constrained-link fail its first try in CI. Only a failed try's pages: some files open a call in
  // one case and go on with it in the next.
  beforeEach(() => {
    openedInCase = [];
  });
  afterEach(async ({ task }) => {
    const opened = openedInCase ?? [];
    openedInCase = undefined;
    if (task.result?.state !== 'fail') return;
    for (const p of opened) await p.context.close().catch(() => undefined);
  });
  afterAll(async () => {
    for (const p of pages) if (p.logs.length) console.log(`page logs (${p.page.url()}):\n${p.logs.slice(0, 20).join('\n')}`);
    await browser?.close();
  });
  const fixture: BrowserFixture = {
    get browser(): Browser {
      if (!browser) throw new Error('Chromium runs only between the beforeAll and afterAll of the block that asked for it');
      return browser;
    },
    pages,
    async openPage(url: string): Promise<OpenedPage> {
      const opened = await openPage(fixture.browser, url);
      pages.push(opened);
      openedInCase?.push(opened);
      return opened;
    },
  };
  return fixture;
}

/** The server and Chromium: what most e2e blocks start. The browser closes before the server. */
export function useCall(options: ServerOptions & BrowserOptions = {}): CallFixture {
  const server = useTestServer(options);
  const browser = useChromium(options);
  return {
    get server(): RunningServer {
      return server.server;
    },
    restartServer: (whileDown) => server.restartServer(whileDown),
    get browser(): Browser {
      return browser.browser;
    },
    pages: browser.pages,
    openPage: (url) => browser.openPage(url),
    open: (pathOnServer) => browser.openPage(`${server.server.url}${pathOnServer}`),
  };
}
