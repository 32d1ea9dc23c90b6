import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningServer } from '../../server/app.ts';
import { DEFAULT_CONFIG } from '../../server/config.ts';
import { E2E_OUTPUT, FAKE_CAMERA_Y4M } from '../../harness/cameras.ts';
import { CHROMIUM_PATH, chromiumArgs, launchChromium, openPage, REMOTE_TILE, type OpenedPage } from '../../harness/browser.ts';
import { startTestServer } from '../../harness/server.ts';

// The call screen as a newcomer meets it (issue 15): a blocked camera or microphone, the stats
// panel at laptop and phone sizes, the join form. P2P, no kiloface streams (not under test here).
const OUT = path.join(E2E_OUTPUT, 'call-screen');
const SELF_TILE = 'section.tile[data-peer="self"]';

/**
 * The element is inside the viewport and nothing covers or clips it: what is drawn at its
 * corners (2 px in) is the element itself or inside it. And a user could have scrolled there:
 * scrollIntoView also scrolls `overflow: hidden` boxes, which no wheel or finger can.
 */
async function shownWhole(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).first().evaluate((element) => {
    for (let box = element.parentElement; box; box = box.parentElement) {
      const style = getComputedStyle(box);
      const userScrolls = (overflow: string): boolean => overflow === 'auto' || overflow === 'scroll';
      if ((box.scrollTop !== 0 && !userScrolls(style.overflowY)) || (box.scrollLeft !== 0 && !userScrolls(style.overflowX))) return false;
    }
    const r = element.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
    const inset = Math.min(2, r.width / 2, r.height / 2);
    return [[r.left + inset, r.top + inset], [r.right - inset, r.bottom - inset]].every(([x, y]) => {
      const hit = document.elementFromPoint(x!, y!);
      return !!hit && (element.contains(hit) || hit.contains(element));
    });
  });
}

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

  // Each test's calls end with it: pages left running would load the next test's (2 cores).
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.context.close().catch(() => undefined);
  });

  afterAll(async () => {
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

  it('the stats panel: every row can be scrolled into view and the call figures show without scrolling, at 1280x720 and 390x844; pictures and controls have accessible names and states', async () => {
    const room = `stats-${Date.now()}`;
    const alice = await open(`${server.url}/r/${room}?name=Alice&neural=off`);
    const bob = await open(`${server.url}/r/${room}?name=Bob&neural=off`);
    await Promise.all([alice, bob].map((o) => o.page.waitForSelector(`${REMOTE_TILE}[data-connection="connected"]`, { timeout: 60_000 })));
    const page = alice.page;
    for (const [width, height] of [[1280, 720], [390, 844]] as const) {
      const at = `${width}x${height}`;
      await page.setViewportSize({ width, height });
      await page.evaluate(() => document.querySelectorAll('.tiles, .stats-scroll').forEach((e) => e.scrollTo(0, 0)));
      await page.waitForTimeout(300);
      for (const stat of ['video-mode', 'call-send-wire-kbps', 'call-recv-wire-kbps']) {
        expect(await shownWhole(page, `${SELF_TILE} [data-stat="${stat}"]`), `${stat} without scrolling at ${at}`).toBe(true);
      }
      writeFileSync(path.join(OUT, `stats-${at}.png`), await page.screenshot());
      // The standard video says what it is and how much it costs.
      await expect.poll(() => page.locator(`${REMOTE_TILE} [data-role="standard-caption"]`).textContent(), { timeout: 10_000 }).toMatch(/^standard video: VP8, [1-9]\d* kbit\/s, \d+ fps$/);
      // Each row of the remote tile's stats panel, brought into view the way a user scrolls.
      const rows = await page.locator(`${REMOTE_TILE} .stats-scroll tbody tr`).count();
      expect(rows).toBeGreaterThanOrEqual(14);
      for (let i = 0; i < rows; i++) {
        const row = `${REMOTE_TILE} .stats-scroll tbody tr:nth-child(${i + 1})`;
        await page.locator(row).evaluate((e) => e.scrollIntoView({ block: 'center' }));
        expect(await shownWhole(page, row), `stats row ${i + 1} (${await page.locator(row).locator('td').first().textContent()}) at ${at}`).toBe(true);
      }
      await page.locator(`${SELF_TILE} .caption strong`).evaluate((e) => e.scrollIntoView({ block: 'center' }));
      expect(await shownWhole(page, `${SELF_TILE} .caption strong`), `"Alice (you)" at ${at}`).toBe(true);
      // The panel is a scroll box of its own with a bounded height.
      const panelHeight = await page.locator(`${REMOTE_TILE} .stats-scroll`).evaluate((e) => e.clientHeight);
      expect(panelHeight, `panel height at ${at}`).toBeLessThanOrEqual(0.5 * height);
    }

    // Accessibility (item 8): pictures named after their person, the connection status a live
    // region, the mute toggle a stable label with aria-pressed.
    expect(await page.getByLabel('Alice (you), your camera', { exact: true }).evaluate((e) => e.tagName)).toBe('VIDEO');
    expect(await page.getByLabel('Bob, standard video', { exact: true }).evaluate((e) => e.tagName)).toBe('VIDEO');
    expect(await page.getByRole('img', { name: 'Bob, rebuilt by kiloface', exact: true, includeHidden: true }).evaluate((e) => e.tagName)).toBe('CANVAS');
    const status = page.locator('[data-role="signalling"]');
    expect([await status.getAttribute('role'), await status.getAttribute('aria-live')]).toEqual(['status', 'polite']);
    const mute = page.getByRole('button', { name: 'mute', exact: true });
    expect(await mute.getAttribute('aria-pressed')).toBe('false');
    await mute.click();
    expect([await mute.textContent(), await mute.getAttribute('aria-pressed')]).toEqual(['mute', 'true']);
    await mute.click();
    expect([await mute.textContent(), await mute.getAttribute('aria-pressed')]).toEqual(['mute', 'false']);
  });

  it('through the SFU each remote tile shows that person\'s streams, not everyone\'s: Carol (no camera) shows no video, Bob does', async () => {
    const sfuServer = await startTestServer({ sfu: { ...DEFAULT_CONFIG.sfu, workers: 1 } });
    try {
      const room = `sfu-tiles-${Date.now()}`;
      const url = (name: string): string => `${sfuServer.url}/r/${room}?name=${name}&neural=off&video=standard&mode=sfu`;
      const alice = await open(url('Alice'));
      await open(url('Bob'));
      await openWith(['microphone'], url('Carol'));
      const tile = (name: string): string => `section.tile:has(.caption strong:text-is("${name}"))`;
      const kbps = async (name: string, stat: string): Promise<number> => Number.parseFloat((await alice.page.locator(`${tile(name)} [data-stat="${stat}"]`).textContent()) ?? '');
      await expect.poll(() => kbps('Bob', 'video-kbps'), { timeout: 60_000 }).toBeGreaterThan(20);
      await expect.poll(() => kbps('Carol', 'audio-kbps'), { timeout: 30_000 }).toBeGreaterThan(0);
      // Before the fix every tile added the whole receive transport: Carol's tile showed Bob's video.
      for (let i = 0; i < 3; i++) {
        expect(await kbps('Carol', 'video-kbps')).toBe(0);
        const bobTotal = await kbps('Bob', 'total-wire-kbps');
        expect(bobTotal).toBeGreaterThanOrEqual(await kbps('Bob', 'video-wire-kbps'));
        expect(await kbps('Carol', 'total-wire-kbps')).toBeLessThan(bobTotal);
        // What we send is on our own tile, not on theirs.
        expect(await alice.page.locator(`${tile('Bob')} [data-stat="video-send-kbps"]`).textContent()).toBe('–');
        await alice.page.waitForTimeout(1000);
      }
    } finally {
      await sfuServer.close();
    }
  });

  it('the join form: an invalid room name is refused in the page with the rule, a double click joins once, the address follows the room, leaving says so', async () => {
    const room = `join-${Date.now()}`;
    const { page } = await open(`${server.url}/?neural=off`);
    await page.fill('input[name="name"]', 'Alice');
    await page.fill('input[name="room"]', 'my room!');
    await page.click('button[data-role="join"]');
    // Chromium compiled the pattern (an invalid one is dropped silently: no patternMismatch).
    expect(await page.locator('input[name="room"]').evaluate((input: HTMLInputElement) => input.validity.patternMismatch)).toBe(true);
    expect(await page.locator('[data-role="join-error"]').textContent()).toBe('"my room!" cannot be a room name. Room names are 1-64 letters (A-Z, a-z), digits, "-" or "_": no spaces.');
    expect(await page.locator('input[name="room"]').getAttribute('aria-invalid')).toBe('true');
    expect(new URL(page.url()).pathname).toBe('/');
    await page.waitForTimeout(500);
    expect(await page.locator('section.tile').count()).toBe(0); // nothing was sent

    await page.fill('input[name="room"]', room);
    expect(await page.locator('[data-role="join-error"]').textContent()).toBe('');
    await page.dblclick('button[data-role="join"]');
    // A third submit while joining is ignored too (Enter in a field).
    await page.evaluate(() => document.querySelector('form')?.requestSubmit());
    await page.waitForSelector(SELF_TILE, { timeout: 30_000 });
    expect(new URL(page.url()).pathname).toBe(`/r/${room}`);
    expect(new URL(page.url()).searchParams.get('neural')).toBe('off');
    expect(await page.locator('header .room').textContent()).toBe(room);
    await page.waitForSelector('[data-role="signalling"][data-state="open"]', { timeout: 15_000 });
    // Alone: a hint with the link to share; "copy link" copies it and says so.
    const hint = page.locator('[data-role="invite-hint"]');
    await hint.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await hint.locator('[data-role="invite-link"]').textContent()).toBe(`${server.url}/r/${room}`);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.click('header [data-role="copy-link"]');
    await expect.poll(() => page.locator('header [data-role="copy-link"]').textContent()).toBe('copied ✓');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${server.url}/r/${room}`);
    await expect.poll(() => page.locator('header [data-role="copy-link"]').textContent(), { timeout: 5000 }).toBe('copy link');
    // With one join, we are alone: a second copy of us would show up as a remote tile.
    const bob = await open(`${server.url}/r/${room}?name=Bob&neural=off`);
    await bob.page.waitForSelector(REMOTE_TILE, { timeout: 15_000 });
    await bob.page.waitForTimeout(2000);
    expect(await bob.page.locator(REMOTE_TILE).count()).toBe(1);
    expect(await page.locator(REMOTE_TILE).count()).toBe(1);
    expect(await hint.isVisible()).toBe(false);

    await page.click('button[data-role="leave"]');
    expect(await page.locator('[data-role="join-notice"]').textContent()).toBe(`You left room ${room}.`);
    expect(await page.locator('input[name="room"]').inputValue()).toBe(room);
    expect(await page.locator('button[data-role="join"]').isDisabled()).toBe(false);
  });

  it('an address naming an invalid room: the join screen says why and the address no longer names it', async () => {
    const { page } = await open(`${server.url}/r/my%20room!?neural=off`);
    await page.waitForSelector('form.join');
    expect(await page.locator('[data-role="join-error"]').textContent()).toMatch(/not valid.*no spaces/);
    expect(new URL(page.url()).pathname).toBe('/');
  });

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
  it('no camera or microphone plugged in: says none was found, the self tile says "no camera", and the call still joins', async () => {
    // Chromium without fake devices on a machine with none: getUserMedia answers NotFoundError.
    const bare = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: chromiumArgs(FAKE_CAMERA_Y4M).filter((flag) => !flag.startsWith('--use-fake-device') && !flag.startsWith('--use-file-for-fake')),
    });
    try {
      const page = await (await bare.newContext({ permissions: ['camera', 'microphone'] })).newPage();
      await page.goto(`${server.url}/r/no-devices-${Date.now()}?name=Dan&neural=off`);
      const notice = page.locator('[data-role="media-problem"]');
      await notice.waitFor({ timeout: 30_000 });
      expect(await notice.textContent()).toMatch(/^No camera or microphone was found\..*listen-only.*Plug in a device/);
      expect(await page.locator(`${SELF_TILE} [data-role="camera-problem"]`).textContent()).toBe('no camera');
      await page.waitForSelector('[data-role="signalling"][data-state="open"]', { timeout: 15_000 });
    } finally {
      await bare.close();
    }
  });
});
