import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags for Debian's Chromium, headless, with a fake camera that plays `y4m` and a fake
 * microphone: Chromium's beep, or `audioWav` (looped) when given.
 */
export function chromiumArgs(y4m: string, options: { audioWav?: string } = {}): string[] {
  return [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${y4m}`,
    ...(options.audioWav ? [`--use-file-for-fake-audio-capture=${options.audioWav}`] : []),
    '--allow-loopback-in-peer-connection',
    '--autoplay-policy=no-user-gesture-required',
    // Background tabs must keep their timers and media running: every context is "background".
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
  ];
}

/** Debian's Chromium, headless (Playwright gives each launch a fresh user-data-dir); flags from chromiumArgs. */
export async function launchChromium(y4m: string, options: { audioWav?: string } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: chromiumArgs(y4m, options) });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors, for diagnosing a failure. */
  logs: string[];
}

export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') logs.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => logs.push(`pageerror: ${error.message}`));
  await page.goto(url);
  return { context, page, logs };
}

/** The tile of a remote peer as the page shows it (any peer but ourselves). */
export const REMOTE_TILE = 'section.tile:not([data-peer="self"])';

/** Reads one figure of the stats panel (a data-stat cell) of the first remote tile. */
export async function readStat(page: Page, stat: string, peerSelector = REMOTE_TILE): Promise<number> {
  const text = await page.locator(`${peerSelector} [data-stat="${stat}"]`).first().textContent();
  return Number.parseFloat(text ?? '');
}

export async function readStatText(page: Page, stat: string, peerSelector = REMOTE_TILE): Promise<string> {
  return (await page.locator(`${peerSelector} [data-stat="${stat}"]`).first().textContent()) ?? '';
}

/** Samples a stat once a second for `seconds` and returns the samples. */
export async function sampleStat(page: Page, stat: string, seconds: number, peerSelector = REMOTE_TILE): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await page.waitForTimeout(1000);
    samples.push(await readStat(page, stat, peerSelector));
  }
  return samples;
}

export const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** The remote tile's kiloface canvas (web/ui/neural-view.ts); its data-frames counts the rebuilt faces drawn. */
export const NEURAL_CANVAS = `${REMOTE_TILE} canvas[data-role="neural-canvas"]`;

/** Rebuilt faces the remote kiloface canvas has drawn so far. */
export async function neuralFramesShown(page: Page): Promise<number> {
  return page.evaluate((sel) => Number(document.querySelector<HTMLCanvasElement>(sel)?.dataset.frames ?? 0), NEURAL_CANVAS);
}

/** Waits until the remote kiloface canvas has drawn at least `atLeast` rebuilt faces. */
export async function waitForNeuralFrames(page: Page, atLeast: number, timeoutMs: number): Promise<void> {
  await page.waitForFunction(([sel, n]) => Number(document.querySelector<HTMLCanvasElement>(sel)?.dataset.frames ?? 0) >= n, [NEURAL_CANVAS, atLeast] as const, { timeout: timeoutMs });
}

/** Frames the remote <video> has presented so far: grows while the picture moves. */
export async function remoteFramesShown(page: Page): Promise<number> {
  return page.locator(`${REMOTE_TILE} video`).first().evaluate((video: HTMLVideoElement) => video.getVideoPlaybackQuality().totalVideoFrames);
}
