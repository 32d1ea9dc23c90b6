import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningServer } from '../../server/app.ts';
import { DEFAULT_CONFIG } from '../../server/config.ts';
import { E2E_OUTPUT, FAKE_CAMERA_Y4M } from './global-setup.ts';
import { CHROMIUM_PATH, chromiumArgs, launchChromium, openPage, REMOTE_TILE, type OpenedPage } from './helpers/browser.ts';
import { startTestServer } from './helpers/server.ts';

// The call screen as a newcomer meets it (issue 15): a blocked camera or microphone, the stats
// panel at laptop and phone sizes, the join form. P2P, no kiloface streams (not under test here).
const OUT = path.join(E2E_OUTPUT, 'call-screen');
const SELF_TILE = 'section.tile[data-peer="self"]';

describe('the call screen for a newcomer', () => {
  let server: RunningServer;
  let browser: Browser;
  /** Chromium that grants no media permission by itself: each context says what it allows. */
  let asking: Browser;
  const opened: OpenedPage[] = [];

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    server = await startTestServer({ sfu: { ...DEFAULT_CONFIG.sfu, enabled: false } });
    browser = await launchChromium(FAKE_CAMERA_Y4M);
    asking = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: chromiumArgs(FAKE_CAMERA_Y4M).filter((flag) => flag !== '--use-fake-ui-for-media-stream'),
    });
  });

  afterAll(async () => {
    for (const o of opened) await o.context.close().catch(() => undefined);
    await asking?.close();
    await browser?.close();
    await server?.close();
  });

  /** A page whose context allows only `permissions` (the others are denied, as after "Block"). */
  async function openWith(permissions: string[], url: string): Promise<Page> {
    const context = await asking.newContext({ permissions });
    const page = await context.newPage();
    opened.push({ context, page, logs: [] });
    await page.goto(url);
    return page;
  }

  async function open(url: string): Promise<OpenedPage> {
    const o = await openPage(browser, url);
    opened.push(o);
    return o;
  }

  it('a blocked camera: a notice says which and how to allow it, the self tile says so, and the call goes on with audio', async () => {
    const room = `blocked-cam-${Date.now()}`;
    const alice = await openWith(['microphone'], `${server.url}/r/${room}?name=Alice&neural=off`);
    const bob = await open(`${server.url}/r/${room}?name=Bob&neural=off`);
    const notice = alice.locator('[data-role="media-problem"]');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toMatch(/Your camera is blocked\..*audio only.*site's settings.*camera to "Allow"/);
    expect(await notice.getAttribute('role')).toBe('alert');
    expect(await alice.locator(`${SELF_TILE} [data-role="camera-problem"]`).textContent()).toBe('camera blocked');
    expect(await alice.locator(`${SELF_TILE} [data-role="camera-problem"]`).isVisible()).toBe(true);
    expect(await alice.locator(`${SELF_TILE} video`).isVisible()).toBe(false);
    expect(await alice.locator('button[data-role="camera"]').isDisabled()).toBe(true);
    expect(await alice.locator('button[data-role="mute"]').isDisabled()).toBe(false);
    // Bob hears Alice, and sees "camera off" rather than a picture.
    await bob.page.waitForSelector(`${REMOTE_TILE}[data-connection="connected"]`, { timeout: 60_000 });
    await bob.page.waitForFunction((sel) => document.querySelector(`${sel} [data-role="badges"]`)?.textContent?.includes('camera off'), REMOTE_TILE, { timeout: 15_000 });
    await bob.page.waitForFunction((sel) => Number.parseFloat(document.querySelector(`${sel} [data-stat="audio-kbps"]`)?.textContent ?? '') > 0, REMOTE_TILE, { timeout: 20_000 });
    expect(Number.parseFloat((await bob.page.locator(`${REMOTE_TILE} [data-stat="video-kbps"]`).textContent()) ?? '')).toBe(0);
    writeFileSync(path.join(OUT, 'camera-blocked.png'), await alice.screenshot());
  });

  it('camera and microphone blocked: listen-only, said so, and the others see them muted with the camera off', async () => {
    const room = `blocked-both-${Date.now()}`;
    const alice = await openWith([], `${server.url}/r/${room}?name=Alice&neural=off`);
    const bob = await open(`${server.url}/r/${room}?name=Bob&neural=off`);
    const notice = alice.locator('[data-role="media-problem"]');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toMatch(/Your camera and microphone are blocked\..*listen-only.*camera and microphone to "Allow"/);
    expect(await alice.locator('button[data-role="mute"]').isDisabled()).toBe(true);
    expect(await alice.locator('button[data-role="mute"]').getAttribute('aria-pressed')).toBe('true');
    await alice.waitForSelector('[data-role="signalling"][data-state="open"]', { timeout: 15_000 });
    await bob.page.waitForFunction((sel) => document.querySelector(`${sel} [data-role="badges"]`)?.textContent?.includes('muted · camera off'), REMOTE_TILE, { timeout: 15_000 });
  });
});
