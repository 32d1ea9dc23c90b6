import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { REMOTE_TILE, type OpenedPage } from '../../harness/browser.ts';
import { clipCameraY4m, E2E_OUTPUT, FAKE_CAMERA_Y4M, HAVE_FACE_CLIP } from '../../harness/cameras.ts';
import { writeSyntheticFaceY4m } from '../../harness/y4m.ts';
import { useCall } from './helpers/call-fixture.ts';

// The call screen explains itself (issue 15 items 6, 7 and 9): what a kiloface tile waits for,
// who sees no face, a camera that is off, and the layout at laptop and phone sizes.
const OUT = path.join(E2E_OUTPUT, 'call-states');
const SELF_TILE = 'section.tile[data-peer="self"]';
const NOTICE = `${REMOTE_TILE} [data-role="neural-notice"]`;
/** A 16:9 camera: a 4:3 box around it would show black bars. */
const WIDE_CAMERA = path.join(E2E_OUTPUT, 'synthetic-face-320x180.y4m');
/** A camera with nothing in view: flat grey. */
const GREY_CAMERA = path.join(E2E_OUTPUT, 'grey-320x240.y4m');

function writeGreyY4m(file: string, width = 320, height = 240, frames = 25): void {
  const frame = Buffer.alloc(width * height * 1.5, 128);
  const parts = [Buffer.from(`YUV4MPEG2 W${width} H${height} F25:1 Ip A1:1 C420jpeg\n`)];
  for (let f = 0; f < frames; f++) parts.push(Buffer.from('FRAME\n'), frame);
  writeFileSync(file, Buffer.concat(parts));
}

/** Records every text the kiloface notices show, from the page's start (they change faster than polls). */
async function recordNotices(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { noticesSeen: string[] }).noticesSeen = seen;
    new MutationObserver(() => {
      for (const notice of document.querySelectorAll('[data-role="neural-notice"]')) {
        const text = notice.textContent ?? '';
        if (seen[seen.length - 1] !== text) seen.push(text);
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
}

const noticesSeen = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { noticesSeen: string[] }).noticesSeen);

describe('a kiloface tile says what it waits for, and who sees no face', () => {
  const call = useCall({
    camera: () => {
      mkdirSync(OUT, { recursive: true });
      if (!existsSync(GREY_CAMERA)) writeGreyY4m(GREY_CAMERA);
      return GREY_CAMERA;
    },
  });
  const opened: OpenedPage[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.context.close().catch(() => undefined);
  });

  it('no face in view: the sender gets a hint, the receiver names the sender\'s camera (before any reference), and camera off reads as camera off', async () => {
    const room = `no-face-${Date.now()}`;
    const alice = await call.openPage(`${call.server.url}/r/${room}?name=Alice&video=both`);
    opened.push(alice);
    const bobContext = await call.browser.newContext({ permissions: ['camera', 'microphone'] });
    const bobPage = await bobContext.newPage();
    opened.push({ context: bobContext, page: bobPage, logs: [] });
    await recordNotices(bobPage);
    await bobPage.goto(`${call.server.url}/r/${room}?name=Bob&neural=off`);

    // Bob: the receiver downloads and compiles, then says it is Alice's camera, not the stream.
    await bobPage.waitForFunction((sel) => document.querySelector(sel)?.textContent === "Alice's camera sees no face", NOTICE, { timeout: 110_000 });
    const seen = await noticesSeen(bobPage);
    expect(seen.some((t) => /^downloading kiloface models \d\/6 \(\d+\.\d (of \d+\.\d MB|MB so far)\)…$/.test(t)), seen.join(' | ')).toBe(true);
    expect(seen, seen.join(' | ')).toContain('compiling the kiloface decoder…');
    expect(seen.filter((t) => t.includes('interrupted') || t === 'no face in view')).toEqual([]);
    expect(await bobPage.locator(`${REMOTE_TILE} figure.neural`).getAttribute('data-state')).toBe('no-face');
    const status = await alice.page.evaluate(() => window.kiloface!.neural!.latestSenderStatus!);
    expect(status.stats.references).toBe(0);

    // Alice: after a few seconds without a face, her own picture says so.
    const hint = alice.page.locator(`${SELF_TILE} [data-role="self-hint"]`);
    await hint.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await hint.textContent()).toBe('no face in view: face the camera');
    writeFileSync(path.join(OUT, 'no-face-sender.png'), await alice.page.screenshot());
    writeFileSync(path.join(OUT, 'no-face-receiver.png'), await bobPage.screenshot());

    // Camera off: a camera that is off sees no face, rightly: neither side calls it "no face".
    await alice.page.click('button[data-role="camera"]');
    await bobPage.waitForFunction((sel) => document.querySelector(sel)?.textContent === "Alice's camera is off", NOTICE, { timeout: 15_000 });
    expect(await bobPage.locator(`${REMOTE_TILE} figure.neural`).getAttribute('data-state')).toBe('camera-off');
    expect(await hint.isVisible()).toBe(false);
    await alice.page.waitForTimeout(4000); // status reports go on every second: the hint stays away
    expect(await hint.isVisible()).toBe(false);
    expect(await bobPage.locator(NOTICE).textContent()).toBe("Alice's camera is off");
    // Back on, still no face.
    await alice.page.click('button[data-role="camera"]');
    await bobPage.waitForFunction((sel) => document.querySelector(sel)?.textContent === "Alice's camera sees no face", NOTICE, { timeout: 15_000 });
    await hint.waitFor({ state: 'visible', timeout: 20_000 });
  });
});

describe('the call screen\'s layout at 1280x720 and 390x844', () => {
  const call = useCall({
    camera: async () => {
      mkdirSync(OUT, { recursive: true });
      if (!existsSync(WIDE_CAMERA)) await writeSyntheticFaceY4m(WIDE_CAMERA, { width: 320, height: 180, fps: 25, frames: 125 });
      return WIDE_CAMERA;
    },
  });
  const opened: OpenedPage[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.context.close().catch(() => undefined);
  });

  const open = async (url: string): Promise<OpenedPage> => {
    const o = await call.openPage(url);
    opened.push(o);
    return o;
  };
  const sizes = [[1280, 720], [390, 844]] as const;

  it('a two-person call with the synthetic face, for the README (docs/call-screen.png is a copy of this screenshot)', async () => {
    const room = `readme-${Date.now()}`;
    const alice = await open(`${call.server.url}/r/${room}?name=Alice&video=both`);
    const bob = await open(`${call.server.url}/r/${room}?name=Bob&video=both`);
    for (const o of [alice, bob]) await o.page.setViewportSize({ width: 1280, height: 720 });
    // Bob's kiloface half: the rebuilt face, or what it waits for once the models are in.
    await bob.page.waitForFunction(
      (sel) => ['face', 'behind', 'no-face'].includes(document.querySelector(sel)?.getAttribute('data-state') ?? ''),
      `${REMOTE_TILE} figure.neural`,
      { timeout: 115_000 },
    );
    await bob.page.waitForTimeout(4000); // a few seconds of figures in the stats
    console.log(`readme screenshot: kiloface tile ${await bob.page.locator(`${REMOTE_TILE} figure.neural`).getAttribute('data-state')}: "${await bob.page.locator(NOTICE).textContent()}"`);
    writeFileSync(path.join(OUT, 'readme-call.png'), await bob.page.screenshot());
  });

  it('alone: a "share this link" hint with a copy button; with three people: videos without black bars, a small self view, a footer of at most two rows, captions on one line', async () => {
    const room = `layout-${Date.now()}`;
    const url = (name: string): string => `${call.server.url}/r/${room}?name=${name}&neural=off&video=standard`;
    const alice = await open(url('Alice'));
    const page = alice.page;
    const hint = page.locator('[data-role="invite-hint"]');
    await hint.waitFor({ state: 'visible', timeout: 30_000 });
    for (const [width, height] of sizes) {
      await page.setViewportSize({ width, height });
      expect(await hint.textContent()).toMatch(/Share this link/);
      const box = (await hint.boundingBox())!;
      expect(box.y + box.height, `invite hint inside the window at ${width}x${height}`).toBeLessThanOrEqual(height);
      expect(await hint.locator('button[data-role="copy-link"]').isVisible()).toBe(true);
    }

    await open(url('Bob'));
    await open(url('Carol'));
    await page.waitForFunction((sel) => document.querySelectorAll(`${sel}[data-connection="connected"]`).length === 2, REMOTE_TILE, { timeout: 60_000 });
    await page.waitForFunction((sel) => [...document.querySelectorAll<HTMLVideoElement>(`${sel} video`)].every((v) => v.videoWidth > 0), REMOTE_TILE, { timeout: 30_000 });
    expect(await hint.isVisible()).toBe(false);
    for (const [width, height] of sizes) {
      const at = `${width}x${height}`;
      await page.setViewportSize({ width, height });
      await page.waitForTimeout(500);
      writeFileSync(path.join(OUT, `three-${at}.png`), await page.screenshot());
      const layout = await page.evaluate(
        ({ remote, self }) => {
          const rect = (e: Element): DOMRect => e.getBoundingClientRect();
          const videos = [...document.querySelectorAll<HTMLVideoElement>(`${remote} video`)].map((v) => ({ box: rect(v), ratio: v.videoWidth / v.videoHeight }));
          const selfPicture = rect(document.querySelector(`${self} .self-picture`)!);
          const stage = rect(document.querySelector('.stage')!);
          const remoteTile = rect(document.querySelector(remote)!);
          // Footer rows: distinct vertical centres of its controls (a row centres controls of different heights).
          const rows = new Set([...document.querySelector('.call footer')!.children].map((c) => Math.round((rect(c).top + rect(c).bottom) / 2 / 8))).size;
          const lines = [...document.querySelectorAll('.tile .caption, .tile .media figcaption, .tile .caption strong')]
            .filter((e) => rect(e).height > 0)
            .map((e) => ({ text: e.textContent, height: rect(e).height, line: Number.parseFloat(getComputedStyle(e).lineHeight) || 1.2 * Number.parseFloat(getComputedStyle(e).fontSize) }));
          const names = [...document.querySelectorAll<HTMLElement>('.tile .caption strong')].map((e) => ({ text: e.textContent, cut: e.scrollWidth > e.clientWidth + 1 }));
          return { videos, selfPicture, stage, remoteTile, rows, lines, names };
        },
        { remote: REMOTE_TILE, self: SELF_TILE },
      );
      // The standard video's box has the picture's shape: no 4:3 box around a 16:9 camera.
      expect(layout.videos).toHaveLength(2);
      for (const video of layout.videos) {
        expect(video.ratio).toBeCloseTo(16 / 9, 1);
        expect(video.box.width / video.box.height, `video box at ${at}`).toBeCloseTo(video.ratio, 1);
      }
      // Our own picture: small, in the stage's corner, and far smaller than a remote tile.
      const { selfPicture: pip, stage, remoteTile } = layout;
      expect(pip.width * pip.height, `self view area at ${at}`).toBeLessThan(0.25 * remoteTile.width * remoteTile.height);
      expect(pip.width, `self view width at ${at}`).toBeLessThanOrEqual(0.35 * width);
      expect(pip.right).toBeLessThanOrEqual(stage.right);
      expect(pip.bottom).toBeLessThanOrEqual(stage.bottom);
      expect(pip.bottom).toBeGreaterThan(stage.bottom - 40);
      // The footer: one row on a laptop, at most two on a phone.
      expect(layout.rows, `footer rows at ${at}`).toBeLessThanOrEqual(width > 480 ? 1 : 2);
      // Captions on one line each, and every name whole.
      for (const line of layout.lines) expect(line.height, `"${line.text}" at ${at}`).toBeLessThan(1.6 * line.line + 14);
      for (const name of layout.names) expect(name.cut, `name "${name.text}" cut at ${at}`).toBe(false);
    }
  });
});

// A real face (a validation clip; skipped without ../shared/data): the tile goes from the models
// through "waiting for the first reference" to the face, and while Alice's packets keep coming it
// never calls the stream interrupted: a decoder that lags says so.
describe.runIf(HAVE_FACE_CLIP)('a kiloface tile with a face in view', () => {
  const call = useCall({
    camera: () => {
      mkdirSync(OUT, { recursive: true });
      return clipCameraY4m(E2E_OUTPUT);
    },
  });
  const opened: OpenedPage[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.context.close().catch(() => undefined);
  });

  it('says each step until the face shows, and "interrupted" only when no packet came for a second', async () => {
    const room = `face-states-${Date.now()}`;
    const alice = await call.openPage(`${call.server.url}/r/${room}?name=Alice&video=kiloface`);
    opened.push(alice);
    const bobContext = await call.browser.newContext({ permissions: ['camera', 'microphone'] });
    const bob = await bobContext.newPage();
    opened.push({ context: bobContext, page: bob, logs: [] });
    await recordNotices(bob);
    await bob.goto(`${call.server.url}/r/${room}?name=Bob&neural=off&video=standard`);
    // Bob's page notes when each of Alice's codec packets arrives (on the page, not in the worker).
    await bob.waitForFunction(() => (window.kiloface?.call?.links().length ?? 0) > 0, undefined, { timeout: 60_000 });
    await bob.evaluate(() => {
      const w = window as unknown as { arrivals: number[] };
      w.arrivals = [];
      window.kiloface!.call!.links()[0]!.onPacket(() => w.arrivals.push(performance.now()));
    });
    const canvas = `${REMOTE_TILE} canvas[data-role="neural-canvas"]`;
    await bob.waitForFunction((sel) => Number(document.querySelector<HTMLCanvasElement>(sel)?.dataset.frames ?? 0) >= 3, canvas, { timeout: 115_000 });
    const before = await noticesSeen(bob);
    expect(before.some((t) => t.startsWith('downloading kiloface models')), before.join(' | ')).toBe(true);
    expect(before, before.join(' | ')).toContain('compiling the kiloface decoder…');
    expect(before, before.join(' | ')).toContain("waiting for Alice's first reference picture…");

    // 20 s of samples, 4 a second: what the tile says, and the longest gap between packets lately.
    const samples: { state: string; text: string; gapMs: number }[] = [];
    for (let i = 0; i < 80; i++) {
      await bob.waitForTimeout(250);
      samples.push(
        await bob.evaluate((sel) => {
          const figure = document.querySelector(sel)!;
          const now = performance.now();
          const recent = [...(window as unknown as { arrivals: number[] }).arrivals.filter((t) => t > now - 3000), now];
          let gapMs = recent[0]! - (now - 3000);
          for (let k = 1; k < recent.length; k++) gapMs = Math.max(gapMs, recent[k]! - recent[k - 1]!);
          return { state: figure.getAttribute('data-state') ?? '', text: figure.querySelector('[data-role="neural-notice"]')?.textContent ?? '', gapMs };
        }, `${REMOTE_TILE} figure.neural`),
      );
    }
    const count = (state: string): number => samples.filter((s) => s.state === state).length;
    console.log(`face-states: ${samples.length} samples: face ${count('face')}, behind ${count('behind')}, stale ${count('stale')}; longest packet gap ${Math.max(...samples.map((s) => s.gapMs)).toFixed(0)} ms`);
    writeFileSync(path.join(OUT, 'face-receiver.png'), await bob.screenshot());
    // Never "interrupted" while packets came (no gap of a second in the last 3 s).
    expect(samples.filter((s) => s.state === 'stale' && s.gapMs < 1000)).toEqual([]);
    for (const s of samples.filter((x) => x.state === 'behind')) {
      const [, drawn, due] = s.text.match(/^decoder slower than the stream \((\d+) of (\d+) pictures\)$/) ?? [];
      expect(Number(drawn), s.text).toBeLessThan(Number(due));
    }
    expect(count('face') + count('behind')).toBeGreaterThan(samples.length / 2);
  });
});
