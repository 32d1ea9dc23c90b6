import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { psnr } from '../../bench/metrics/psnr.ts';
import { HEADER_BYTES } from '../../codec/bitstream/packet.ts';
import { ssim } from '../../bench/metrics/ssim.ts';
import type { Plane } from '../../bench/metrics/plane.ts';
import { clipCameraY4m, HAVE_FACE_CLIP, E2E_OUTPUT } from '../../harness/cameras.ts';
import { NEURAL_CANVAS, REMOTE_TILE, waitForNeuralFrames, type OpenedPage } from '../../harness/browser.ts';
import { useCall } from './helpers/call-fixture.ts';

// The neural call in real Chromium: Alice's fake camera plays a real talking head (a validation
// person of split-v1, never trained on), Alice sends kiloface at 10 kbit/s (geometry only), then
// in a second call at 16 kbit/s with the guide layer, Bob's page rebuilds her face in a canvas
// beside the standard codec capped at 10 kbit/s. Without ../shared/data the
// rebuild tests are skipped (the clip is not ours to ship) and only the no-face path runs on the
// synthetic camera.
const HAVE_CLIP = HAVE_FACE_CLIP;
const OUT = path.join(E2E_OUTPUT, 'neural');

// Thresholds set from measurement on this machine (2 cores, both pages in one headless Chromium,
// kiloface-v1): four runs gave mean PSNR-Y 22.5-24.3 dB and SSIM-Y 0.83-0.86 over 6-12 frames
// (single frames down to 18.6 dB / 0.76), so the bar sits ~2.5 dB and ~0.08 below the lowest mean.
// With models/kiloface-v2 (the dev export kf-v2-dev2, fusion not yet trained: its card has no
// metrics), 2026-12-06 at load 4-14, means of the call and after-loss measurements: geometry only
// 22.6-25.1 dB / 0.789-0.830 (2 runs), guide mode 23.1-24.7 dB / 0.737-0.805 (4 runs; 2 of 8
// means under the SSIM bar). The guide mode has the same bar on purpose: it must not rebuild
// worse than geometry alone. With run v8 (2026-12-08, load 3-9) the geometry-only picture after
// the loss had mean SSIM-Y 0.736-0.821 over five runs, and 0.769 in a control run without the
// loss: the call's 60 s refresh takes a new reference from wherever the clip is, and the quality
// after it follows that picture. So the SSIM bar is 0.70, ~0.04 under the lowest mean, as the PSNR
// bar is 2 dB under its lowest (21.97 dB).
const MIN_PSNR_Y = 20;
const MIN_SSIM_Y = 0.7;

/** 8-bit luma (BT.601) of 256x256 RGBA pixels. */
function luma(rgba: ArrayLike<number>): Plane {
  const data = new Float64Array(rgba.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = 0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!;
  return { width: 256, height: 256, data };
}

/** What Bob's canvas shows now, and the sender frame time it shows. */
async function grabRebuilt(page: Page): Promise<{ pixels: Uint8Array; senderTimeMs: number; frames: number; shownAtEpochMs: number }> {
  const grabbed = await page.evaluate((selector) => {
    const canvas = document.querySelector<HTMLCanvasElement>(selector)!;
    const data = canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, 256, 256).data;
    let binary = '';
    for (let i = 0; i < data.length; i += 8192) binary += String.fromCharCode(...data.subarray(i, i + 8192));
    return { base64: btoa(binary), senderTimeMs: Number(canvas.dataset.senderTime), frames: Number(canvas.dataset.frames ?? 0), shownAtEpochMs: Number(canvas.dataset.shownAtEpochMs) };
  }, NEURAL_CANVAS);
  return { pixels: new Uint8Array(Buffer.from(grabbed.base64, 'base64')), senderTimeMs: grabbed.senderTimeMs, frames: grabbed.frames, shownAtEpochMs: grabbed.shownAtEpochMs };
}

/** Alice's crop for a frame time (her sender keeps recent ones with neuralDebug=1). */
async function senderCrop(page: Page, senderTimeMs: number): Promise<Uint8Array | null> {
  const base64 = await page.evaluate(async (t) => {
    const neural = window.kiloface!.neural!;
    // The receiver may show a time between two frames: the nearest frame slot.
    for (const slot of [Math.round(t / 40) * 40, Math.floor(t / 40) * 40, Math.ceil(t / 40) * 40]) {
      const crop = await neural.senderCrop(slot);
      if (!crop) continue;
      let binary = '';
      for (let i = 0; i < crop.length; i += 8192) binary += String.fromCharCode(...crop.subarray(i, i + 8192));
      return btoa(binary);
    }
    return null;
  }, senderTimeMs);
  return base64 === null ? null : new Uint8Array(Buffer.from(base64, 'base64'));
}

/**
 * What Alice's codec stream has sent, for the wire bitrate: her codec datachannels' bytes and
 * messages (getStats), and the bytes her frame bundles added to her audio packets (they ride there
 * by default, issue 16, and pay no packet headers of their own).
 */
async function codecChannelTotals(page: Page): Promise<{ bytes: number; messages: number; audioBytes: number; atMs: number }> {
  return page.evaluate(async () => {
    const call = window.kiloface!.call!;
    const participant = call.participants()[0]!;
    const snapshot = (await participant.getStats())!;
    let bytes = 0;
    let messages = 0;
    for (const entry of snapshot.values()) {
      if (entry.type !== 'data-channel' || !String(entry.label).match(/^kiloface-(frames|control)$/)) continue;
      bytes += Number(entry.bytesSent ?? 0);
      messages += Number(entry.messagesSent ?? 0);
    }
    let audioBytes = call.sfuAudioBundleCounts?.sentBytes ?? 0;
    for (const peer of call.peers.values()) audioBytes += peer.audioBundleCounts.sentBytes;
    return { bytes, messages, audioBytes, atMs: performance.now() };
  });
}

const senderStats = (page: Page) => page.evaluate(() => window.kiloface!.neural!.latestSenderStatus!.stats);
const receiverStats = (page: Page) => page.evaluate(() => [...window.kiloface!.neural!.receiverStatus.values()][0]!.stats);

async function measureQuality(alice: Page, bob: Page, samples: number): Promise<{ psnr: number[]; ssim: number[]; latencyMs: number[] }> {
  const out = { psnr: [] as number[], ssim: [] as number[], latencyMs: [] as number[] };
  // Both pages run on this machine: wall-clock times compare (frame slot 0's time is in the status).
  const origin = await alice.evaluate(() => window.kiloface!.neural!.latestSenderStatus?.slotOriginEpochMs);
  for (let i = 0; i < samples * 3 && out.psnr.length < samples; i++) {
    await bob.waitForTimeout(700);
    const rebuilt = await grabRebuilt(bob);
    if (origin !== undefined) out.latencyMs.push(rebuilt.shownAtEpochMs - (origin + rebuilt.senderTimeMs));
    const crop = await senderCrop(alice, rebuilt.senderTimeMs);
    if (!crop) continue;
    out.psnr.push(psnr(luma(crop), luma(rebuilt.pixels)));
    out.ssim.push(ssim(luma(crop), luma(rebuilt.pixels)));
  }
  return out;
}

/** The fake camera's video: the clip's first 10 s at 640x360, 25 fps. */
function clipCamera(): string {
  mkdirSync(OUT, { recursive: true });
  return clipCameraY4m(E2E_OUTPUT);
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);

/**
 * The modes the call runs in: geometry only (kiloface's lowest wire rates), and a guide mode
 * (issue 17: a 48 px AV1 picture of the crop at 10/s inside the bundles, WebCodecs at both ends,
 * decoder v2 fusing it). The wire bar is the mode's own target.
 */
const MODES = [
  { name: 'geometry only', kbps: 10, guide: false },
  { name: 'guide (AV1 48 px, 10/s)', kbps: 16, guide: true },
] as const;

for (const mode of MODES) describe.skipIf(!HAVE_CLIP)(`neural call in real Chromium, ${mode.name} at ${mode.kbps} kbit/s (a shared talking-head clip as the camera)`, () => {
  const call = useCall({ camera: clipCamera });
  let alice: OpenedPage;
  let bob: OpenedPage;
  const room = `neural-${mode.kbps}-${Date.now()}`;

  beforeAll(async () => {
    // Alice sends kiloface at the mode's rate beside the standard video (video=both: the side-by-side
    // demo; auto would pick standard alone on this loopback link); Bob only receives. Both cap the standard video at 10.
    alice = await call.open(`/r/${room}?name=Alice&cap=10&kbps=${mode.kbps}&neuralDebug=1&video=both`);
    bob = await call.open(`/r/${room}?name=Bob&cap=10&neural=off`);
  });

  it(`rebuilds the sender’s face in the receiver’s canvas at ≤ ${mode.kbps} kbit/s on the wire, references included`, async () => {
    const started = performance.now();
    // Count from the moment the codec channels open: the first reference is in the window.
    await alice.page.waitForFunction(() => window.kiloface?.call?.links()[0]?.isOpen === true, undefined, { timeout: 30_000 });
    const first = await codecChannelTotals(alice.page);
    await waitForNeuralFrames(bob.page, 3, 90_000);
    const firstFramesAt = performance.now();
    console.log(`first rebuilt frames ${Math.round(firstFramesAt - started)} ms after the pages opened (models, tracker, first reference)`);
    // When Bob's first picture rebuilt with a guide is drawn (his worker's status, once a second).
    const guideOn = mode.guide
      ? bob.page
          .waitForFunction(() => [...window.kiloface!.neural!.receiverStatus.values()].some((s) => s.pictures.guided > 0), undefined, { timeout: 60_000, polling: 100 })
          .then(() => `${((performance.now() - firstFramesAt) / 1000).toFixed(1)} s`, () => 'not within 60 s')
      : undefined;
    const quality = await measureQuality(alice.page, bob.page, 12);
    await alice.page.waitForTimeout(Math.max(0, 25_000 - (performance.now() - started)));
    // Guide pictures counted over the last 10 s: the sender codes them before Bob is there, and
    // Bob's worker falls behind while it loads models, the first reference and warms up.
    const guidesFrom = { sent: await senderStats(alice.page), received: await receiverStats(bob.page) };
    if (mode.guide) await alice.page.waitForTimeout(10_000);
    const last = await codecChannelTotals(alice.page);

    // Wire: what Alice's codec channels sent (getStats) plus the datachannel + UDP/IP overhead
    // of each message (codec/stream/wire.ts), and the bytes her bundles added to her audio.
    const seconds = (last.atMs - first.atMs) / 1000;
    const audioKbps = ((last.audioBytes - first.audioBytes) * 8) / 1000 / seconds;
    const windowKbps = ((last.bytes - first.bytes + (last.messages - first.messages) * 80) * 8) / 1000 / seconds + audioKbps;
    const status = await alice.page.evaluate(() => window.kiloface!.neural!.latestSenderStatus!);
    const fps = Number(await bob.page.locator(`${REMOTE_TILE} [data-stat="neural-fps"]`).textContent());
    const decodeMs = Number(await bob.page.locator(`${REMOTE_TILE} [data-stat="neural-decode-ms"]`).textContent());
    const backend = await bob.page.locator(`${REMOTE_TILE} [data-stat="neural-backend"]`).textContent();
    console.log(
      `neural stream: wire ${windowKbps.toFixed(2)} kbit/s over ${seconds.toFixed(1)} s (${last.messages - first.messages} datachannel messages, ${audioKbps.toFixed(2)} kbit/s of it inside audio packets), ` +
        `(${first.bytes} B before the window); references sent ${status.stats.references} (${status.stats.referenceBytes} B, ${JSON.stringify(status.stats.referencesByCause)}); ` +
        `tracker ${status.trackedFps.toFixed(1)} fps at ${status.trackMs.toFixed(0)} ms; receiver decode ${fps} fps at ${decodeMs} ms/frame (${backend})`,
    );
    console.log(`${mode.name}: rebuilt vs sent crop (luma, ${quality.psnr.length} frames): PSNR ${mean(quality.psnr).toFixed(2)} dB (min ${Math.min(...quality.psnr).toFixed(2)}), SSIM ${mean(quality.ssim).toFixed(3)} (min ${Math.min(...quality.ssim).toFixed(3)})`);
    const received = await receiverStats(bob.page);
    const guidesSent = status.stats.guidePictures - guidesFrom.sent.guidePictures;
    const guidesDecoded = received.guidePictures - guidesFrom.received.guidePictures;
    console.log(
      `${mode.name}: guide pictures coded ${status.stats.guidePictures} (${status.stats.guideKeyframes} keyframes, ${status.stats.guideBytes} B, ${status.stats.guideFailures} failures, ${status.stats.guideKeyframeRequests} keyframes on request); ` +
        `received ${received.guidePictures} (lost ${received.guidesLost}, skipped ${received.guidesSkipped}, errors ${received.guideErrors}, keyframe requests ${received.guideKeyframeRequests}); ` +
        `in the last 10 s: ${guidesSent} coded, ${guidesDecoded} decoded`,
    );
    if (mode.guide) {
      console.log(`${mode.name}: first picture rebuilt with a guide drawn ${await guideOn} after the first rebuilt frames`);
      // The guide really travelled and decoded, once the receiver runs: most pictures of the window.
      expect(status.stats.guideFailures).toBe(0);
      expect(guidesSent).toBeGreaterThan(60);
      expect(guidesDecoded).toBeGreaterThan(0.8 * guidesSent);
    } else {
      expect(status.stats.guidePictures).toBe(0);
    }
    // Later in the call, once the receiver has warmed up and (guide modes) guide pictures flow: the
    // first measure above mostly sees the start, when guides are still skipped.
    const later = await measureQuality(alice.page, bob.page, 8);
    console.log(`${mode.name}: later in the call, rebuilt vs sent crop (luma, ${later.psnr.length} frames): PSNR ${mean(later.psnr).toFixed(2)} dB, SSIM ${mean(later.ssim).toFixed(3)}`);
    const latency = quality.latencyMs.slice().sort((a, b) => a - b);
    console.log(`camera frame handed to the tracker -> rebuilt picture on the canvas: median ${latency[latency.length >> 1]?.toFixed(0)} ms, range ${latency[0]?.toFixed(0)}-${latency[latency.length - 1]?.toFixed(0)} ms (${latency.length} samples; 5-frame bundles, 60 ms jitter margin, decode)`);

    expect(quality.psnr.length).toBeGreaterThanOrEqual(8);
    expect(mean(quality.psnr)).toBeGreaterThan(MIN_PSNR_Y);
    expect(mean(quality.ssim)).toBeGreaterThan(MIN_SSIM_Y);
    expect(windowKbps).toBeLessThanOrEqual(mode.kbps);
    expect(status.stats.references).toBeGreaterThanOrEqual(1);
    expect(fps).toBeGreaterThan(0);

    // For a person to look at: Bob's tile, standard codec and kiloface side by side.
    writeFileSync(path.join(OUT, `side-by-side-${mode.kbps}kbps.png`), await bob.page.locator(REMOTE_TILE).screenshot());
    writeFileSync(path.join(OUT, `call-${mode.kbps}kbps.png`), await bob.page.screenshot({ fullPage: true }));
  }, 240_000);

  it('keeps the rebuilt face moving through 20% loss on the frames channel, and recovers after', async () => {
    /**
     * Watches Bob's kiloface picture for `ms`: the longest time the canvas kept one picture, and
     * the longest time the receiver had nothing new to show (the tile marked "interrupted").
     */
    const watch = (ms: number) =>
      bob.page.evaluate(
        async ({ sel, ms }) => {
          const canvas = document.querySelector<HTMLCanvasElement>(sel)!;
          const figure = canvas.closest<HTMLElement>('figure')!;
          let last = canvas.dataset.frames;
          let since = performance.now();
          let longest = 0;
          let staleSince: number | undefined;
          let longestStale = 0;
          const end = performance.now() + ms;
          while (performance.now() < end) {
            await new Promise((r) => setTimeout(r, 20));
            const now = performance.now();
            if (canvas.dataset.frames !== last) {
              longest = Math.max(longest, now - since);
              last = canvas.dataset.frames;
              since = now;
            }
            if (figure.dataset.state === 'stale') staleSince ??= now;
            else if (staleSince !== undefined) {
              longestStale = Math.max(longestStale, now - staleSince);
              staleSince = undefined;
            }
          }
          const now = performance.now();
          return { longestHold: Math.max(longest, now - since), longestStale: Math.max(longestStale, staleSince === undefined ? 0 : now - staleSince) };
        },
        { sel: NEURAL_CANVAS, ms },
      );
    const senderStatus = () => senderStats(alice.page);
    const clean = await watch(8000);
    const before = await senderStatus();
    await alice.page.evaluate(() => window.kiloface!.neural!.setSimulatedLoss(0.2));
    const lossy = await watch(12_000);
    await alice.page.evaluate(() => window.kiloface!.neural!.setSimulatedLoss(0));
    await alice.page.waitForTimeout(1200); // the sender's status comes once a second
    const afterLoss = await senderStatus();
    const dropped = afterLoss.framesPacketsDropped - before.framesPacketsDropped;
    const sent = afterLoss.messages - before.messages;
    writeFileSync(path.join(OUT, `side-by-side-after-loss-${mode.kbps}kbps.png`), await bob.page.locator(REMOTE_TILE).screenshot());
    await bob.page.waitForTimeout(3000);
    // 12 samples 0.7 s apart span most of the camera clip's 10 s loop, as the call's own measurement
    // does: 6 covered a third of it, a smaller share of the loop's easy and hard parts.
    const after = await measureQuality(alice.page, bob.page, 12);
    console.log(
      `no loss, 8 s: longest time one picture stayed ${Math.round(clean.longestHold)} ms; ` +
        `20% loss, 12 s (${dropped} frames packets dropped, ${sent} messages sent): longest time one picture stayed ${Math.round(lossy.longestHold)} ms, ` +
        `longest time with nothing new to show ${Math.round(lossy.longestStale)} ms; after the loss: PSNR ${mean(after.psnr).toFixed(2)} dB, SSIM ${mean(after.ssim).toFixed(3)} (${mode.name})`,
    );
    if (mode.guide) {
      const received = await receiverStats(bob.page);
      console.log(`${mode.name} after the loss: guide pictures received ${received.guidePictures}, lost ${received.guidesLost}, skipped ${received.guidesSkipped}, errors ${received.guideErrors}, keyframe requests ${received.guideKeyframeRequests}; sender served ${afterLoss.guideKeyframeRequests} (${afterLoss.guideKeyframes} keyframes in all)`);
      // Lost bundles took guide pictures with them; the receiver asked for keyframes and got them.
      expect(received.guideKeyframeRequests).toBeGreaterThan(0);
      expect(afterLoss.guideKeyframeRequests).toBeGreaterThan(0);
    }
    expect(dropped).toBeGreaterThanOrEqual(3); // ~12 expected: the loss really happened
    // The receiver's own criterion: concealment carries the motion over lost packets, so it is
    // never without new geometry to show for 500 ms.
    expect(lossy.longestStale).toBeLessThan(500);
    // The canvas itself: on this 2-core machine the decoder (both call ends, ~100-300 ms per
    // picture, more when a reference loads) holds one picture for up to ~520 ms even without
    // loss (measured: 292-526 ms in 8 runs), so here the bar is a second.
    expect(lossy.longestHold).toBeLessThan(1000);
    expect(mean(after.psnr)).toBeGreaterThan(MIN_PSNR_Y);
    expect(mean(after.ssim)).toBeGreaterThan(MIN_SSIM_Y);
  }, 180_000);
});

describe.skipIf(!HAVE_CLIP)('neural call through the SFU', () => {
  const call = useCall({ sfu: { workers: 1 }, camera: clipCamera });

  it('rebuilds the face from packets the SFU forwarded', async () => {
    const room = `neural-sfu-${Date.now()}`;
    const alice = await call.open(`/r/${room}?name=Alice&mode=sfu&cap=20&neuralDebug=1&video=both`);
    const bob = await call.open(`/r/${room}?name=Bob&mode=sfu&cap=20&neural=off`);
    await bob.page.waitForSelector('[data-role="mode"][data-mode="sfu"]', { timeout: 30_000 });
    await waitForNeuralFrames(bob.page, 3, 90_000);
    const quality = await measureQuality(alice.page, bob.page, 5);
    console.log(`through the SFU: PSNR ${mean(quality.psnr).toFixed(2)} dB, SSIM ${mean(quality.ssim).toFixed(3)} (${quality.psnr.length} frames)`);
    expect(quality.psnr.length).toBeGreaterThanOrEqual(3);
    expect(mean(quality.psnr)).toBeGreaterThan(MIN_PSNR_Y);
    expect(mean(quality.ssim)).toBeGreaterThan(MIN_SSIM_Y);
    // The next case starts its own call: two more pages tracking and decoding beside it would
    // slow its first pictures by minutes on 2 cores.
    for (const p of [alice, bob]) await p.context.close();
  }, 180_000);

  it('a newcomer gets the sender’s reference from the SFU’s copy: the sender makes none for them and the others receive nothing extra', async () => {
    const room = `neural-sfu-join-${Date.now()}`;
    const alice = await call.open(`/r/${room}?name=Alice&mode=sfu&video=kiloface`);
    const bob = await call.open(`/r/${room}?name=Bob&mode=sfu&video=kiloface&neural=off`);
    const started = performance.now();
    const framesShown = (page: Page) => waitForNeuralFrames(page, 3, 120_000);
    await framesShown(bob.page);
    const bobShownMs = performance.now() - started;
    const aliceMade = () => alice.page.evaluate(() => window.kiloface!.neural!.latestSenderStatus!.stats);
    const bobReceived = () => bob.page.evaluate(() => [...window.kiloface!.neural!.receiverStatus.values()][0]!.stats.references);
    const relay = () => ({ ...call.server.sfu!.rooms.get(room)!.controlRelay.stats });
    // Each count is what a page's worker said up to a second ago, and a reference takes a while to
    // cross: Bob's window starts IN_FLIGHT_MS after Alice's and ends IN_FLIGHT_MS before it, so
    // that a reference made before Alice's window cannot land in Bob's (it did once in CI: 5 > 4).
    const IN_FLIGHT_MS = 5000;
    const before = { alice: await aliceMade(), relay: relay() };
    await alice.page.waitForTimeout(IN_FLIGHT_MS);
    const bobBefore = await bobReceived();
    const carol = await call.open(`/r/${room}?name=Carol&mode=sfu&video=kiloface&neural=off`);
    const carolOpened = performance.now();
    await framesShown(carol.page);
    const carolShownMs = performance.now() - carolOpened;
    const bobAfter = await bobReceived();
    await alice.page.waitForTimeout(IN_FLIGHT_MS);
    const after = { alice: await aliceMade(), relay: relay() };
    const carolReferences = await carol.page.evaluate(() => [...window.kiloface!.neural!.receiverStatus.values()][0]!.stats.references);
    console.log(
      `Carol's join: Alice made ${after.alice.references - before.alice.references} references (${after.alice.referencesByCause.request - before.alice.referencesByCause.request} on request), ` +
        `Bob received ${bobAfter - bobBefore}, Carol ${carolReferences}; relay ${JSON.stringify(after.relay)}; ` +
        `Bob's first pictures ${Math.round(bobShownMs)} ms after the pages opened, Carol's ${Math.round(carolShownMs)} ms after hers; Alice's references by cause ${JSON.stringify(after.alice.referencesByCause)}`,
    );
    expect(carolReferences).toBeGreaterThanOrEqual(1);
    // Carol's first reference came from the server's copy, or from one Alice made for everyone
    // anyway (a refresh or a move) before Carol asked: never from one made for her.
    expect(after.relay.answeredFromCache - before.relay.answeredFromCache + (after.alice.references - before.alice.references)).toBeGreaterThanOrEqual(1);
    expect(after.alice.referencesByCause.request).toBe(before.alice.referencesByCause.request);
    expect(after.alice.referencesResent).toBe(before.alice.referencesResent); // nor sent again for her
    // Bob gets what Alice makes for everyone (a refresh or a move may fall in the window), nothing more.
    expect(bobAfter - bobBefore).toBeLessThanOrEqual(after.alice.references - before.alice.references);
    for (const p of [alice, bob, carol]) await p.context.close();
  }, 300_000);
});

/** A camera that sees no one: a slowly moving gradient with grain. */
function writeEmptyRoomY4m(file: string): void {
  const [width, height, frames] = [320, 240, 50];
  const ySize = width * height;
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${width} H${height} F25:1 Ip A1:1 C420jpeg\n`)];
  let seed = 1;
  for (let f = 0; f < frames; f++) {
    const frame = Buffer.alloc(ySize * 1.5, 128);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        frame[y * width + x] = 60 + ((x + 2 * f) % 120) + ((seed >> 16) & 7);
      }
    }
    parts.push(Buffer.from('FRAME\n'), frame);
  }
  writeFileSync(file, Buffer.concat(parts));
}

describe('neural call without a face in view', () => {
  const call = useCall({
    camera: () => {
      const camera = path.join(E2E_OUTPUT, 'empty-room-320x240.y4m');
      if (!existsSync(camera)) writeEmptyRoomY4m(camera);
      return camera;
    },
  });

  it('sends nothing it cannot stand behind (only NoFace packets), and the receiver says the camera sees no face', async () => {
    const room = `neural-noface-${Date.now()}`;
    const alice = await call.open(`/r/${room}?name=Alice&cap=20&video=both`);
    const bob = await call.open(`/r/${room}?name=Bob&cap=20&neural=off`);
    await bob.page.waitForSelector(`${REMOTE_TILE}[data-connection="connected"]`, { timeout: 30_000 });
    await alice.page.waitForFunction(() => (window.kiloface?.neural?.latestSenderStatus?.trackedFps ?? -1) >= 0, undefined, { timeout: 60_000 });
    await alice.page.waitForTimeout(3000);
    const status = await alice.page.evaluate(() => window.kiloface!.neural!.latestSenderStatus!);
    expect(status.face).toBe(false);
    expect(status.stats.references).toBe(0);
    // Only NoFace packets: a bare header each, so that Bob can say why there is no face.
    expect(status.stats.messages).toBeGreaterThan(0);
    expect(status.stats.payloadBytes).toBe(status.stats.messages * HEADER_BYTES);
    await bob.page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "Alice's camera sees no face", `${REMOTE_TILE} [data-role="neural-notice"]`, { timeout: 90_000 });
  });
});
