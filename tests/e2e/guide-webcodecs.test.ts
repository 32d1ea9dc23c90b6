// The guide layer's codec in real Chromium (issue 17): web/neural/guide-webcodecs.ts in a
// dedicated worker, as the sender and receiver workers run it, on a moving synthetic face crop
// area-downscaled to the guide's side. Checks the round trip's quality, the payload rate against
// the target, keyframes only where they are asked for, and the recovery after a lost picture;
// prints the encoder's and decoder's milliseconds per picture.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import type { Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psnr } from '../../bench/metrics/psnr.ts';
import type { Plane } from '../../bench/metrics/plane.ts';
import { areaDownscale, isGuideSlot, type GuideLayer } from '../../codec/stream/guide-codec.ts';
import { FACE_CLIP, HAVE_FACE_CLIP } from '../../harness/cameras.ts';
import { ffmpegGuideCodecs, GUIDE_VARIANTS, ivfFile } from '../../bench/codecs/guide-ffmpeg.ts';
import { FFMPEG, FFMPEG_QUIET } from '../../bench/ffmpeg-tools.ts';
import { runProcess } from '../../bench/process.ts';
import { drawSyntheticFace } from '../helpers/tracker/synthetic-face.ts';
import { useChromium } from './helpers/call-fixture.ts';
import type { DecodedPicture, EncodedPicture, GuideWorkerApi } from './helpers/guide-webcodecs-worker.ts';
import { VP9_GUIDE_LAYER } from '../../web/neural/guide-webcodecs.ts';

declare const kfGuide: GuideWorkerApi;

const PICTURES = 30;
const AV1_48: GuideLayer = { codec: 'av1', side: 48, fps: 10, kbps: 6 };
const VP9_48: GuideLayer = { codec: 'vp9', side: 48, fps: 10, kbps: 8 };

// Floors ~3 dB under what three runs in Chromium 156 gave (the same every run: software codecs
// on the same pictures): AV1 PSNR-Y 39.7 / RGB 34.1 dB, VP9 42.7 / 36.0 dB.
const MIN_MEAN_PSNR_Y: Record<string, number> = { av1: 36.5, vp9: 39.5 };
const MIN_MEAN_PSNR_RGB: Record<string, number> = { av1: 31, vp9: 33 };
/** Payload over the 3 s, keyframe included, as a share of the target (measured: AV1 0.94, VP9 0.79). */
const RATE_RANGE = [0.65, 1.25] as const;

/** Picture i of a face that slides, bobs and turns in its 256 px crop, with a little camera noise. */
function crop(i: number): Uint8Array {
  const face = drawSyntheticFace({
    width: 256, height: 256, size: 170, noise: 1.5, seed: 7 + i,
    cx: 128 + 18 * Math.sin(i / 5), cy: 128 + 6 * Math.cos(i / 4), angle: 0.12 * Math.sin(i / 6),
  });
  return face.data as Uint8Array;
}

const MEASURE_SECONDS = 10;

/**
 * 25 fps 256 px crops for the measurement: the e2e talking head (harness/cameras.ts FACE_CLIP,
 * its first 10 s, a fixed 400 px box around the head at 1280x720: this clip's face stays inside
 * it) where ../shared/data is there, else the synthetic face.
 */
function faceCrops(): { crops: Uint8Array[]; source: string } {
  const n = MEASURE_SECONDS * 25;
  if (!HAVE_FACE_CLIP) return { crops: Array.from({ length: n }, (_, i) => crop(i)), source: 'synthetic face' };
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', FACE_CLIP, '-t', String(MEASURE_SECONDS), '-vf', 'fps=25,crop=400:400:460:40,scale=256:256:flags=area', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'], { maxBuffer: 1 << 27 });
  const size = 256 * 256 * 3;
  return { crops: Array.from({ length: Math.floor(raw.length / size) }, (_, i) => new Uint8Array(raw.buffer, raw.byteOffset + i * size, size)), source: `${path.basename(FACE_CLIP)}, first ${MEASURE_SECONDS} s` };
}

function lumaOf(rgb: ArrayLike<number>, side: number): Plane {
  const data = new Float64Array(side * side);
  for (let i = 0; i < data.length; i++) data[i] = 0.299 * rgb[3 * i]! + 0.587 * rgb[3 * i + 1]! + 0.114 * rgb[3 * i + 2]!;
  return { width: side, height: side, data };
}

/** All three channels as one plane: catches a colour conversion that luma alone would not. */
const rgbPlane = (rgb: ArrayLike<number>, side: number): Plane => ({ width: side * 3, height: side, data: Float64Array.from(rgb) });

const meanOf = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const stats = (ms: number[]): string => `mean ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2)} ms, max ${Math.max(...ms).toFixed(2)} ms`;

describe('guide codec on WebCodecs in Chromium', () => {
  const chromium = useChromium();
  let server: Server;
  let worker: Worker;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [path.resolve('tests/e2e/helpers/guide-webcodecs-worker.ts')],
      bundle: true, format: 'iife', target: 'es2022', write: false,
    });
    const script = bundle.outputFiles[0]!.text;
    server = createServer((req, res) => {
      if (req.url === '/guide-worker.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><title>guide codec</title>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { page } = await chromium.openPage(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const started = page.waitForEvent('worker');
    await page.evaluate(() => new Promise<void>((resolve) => {
      const w = new Worker('/guide-worker.js');
      w.onmessage = () => resolve();
    }));
    worker = await started;
  });

  afterAll(async () => {
    await worker?.evaluate(() => kfGuide.close()).catch(() => undefined);
    await new Promise((resolve) => server?.close(resolve));
  });

  const encode = (rgb: Uint8Array, keyframe: boolean): Promise<EncodedPicture> => worker.evaluate(([p, k]) => kfGuide.encode(p, k), [Array.from(rgb), keyframe] as [number[], boolean]);
  const decode = (p: EncodedPicture & { number?: number }): Promise<DecodedPicture> => worker.evaluate((q) => kfGuide.decode(q), { keyframe: p.keyframe, data: p.data, ...(p.number === undefined ? {} : { number: p.number }) });

  it('finds AV1 (and says which guide codecs this browser has)', async () => {
    const codecs = await worker.evaluate(() => kfGuide.supported(48));
    console.log(`guide codecs WebCodecs encodes and decodes at 48 px: ${codecs.join(', ') || 'none'}`);
    expect(codecs[0]).toBe('av1');
  });

  it('a browser without AV1 sends the trained VP9 guide instead, one without either sends geometry only, and says so', async () => {
    const av1Mode: GuideLayer = { codec: 'av1', side: 64, fps: 10, kbps: 8 };
    expect(await worker.evaluate((l) => kfGuide.layerWithout(l, []), av1Mode)).toEqual({ layer: av1Mode });
    const noAv1 = await worker.evaluate((l) => kfGuide.layerWithout(l, ['av1']), av1Mode);
    console.log(`without AV1: ${JSON.stringify(noAv1)}`);
    expect(noAv1.layer).toEqual(VP9_GUIDE_LAYER);
    expect(noAv1.note).toContain('sending the VP9 guide');
    const neither = await worker.evaluate((l) => kfGuide.layerWithout(l, ['av1', 'vp9']), av1Mode);
    expect(neither.layer).toBeUndefined();
    expect(neither.note).toContain('sending geometry only');
    // The stubs are gone: the real answers again.
    expect(await worker.evaluate(() => kfGuide.supported(48))).toContain('vp9');
  });

  for (const layer of [AV1_48, VP9_48]) {
    it(`${layer.codec} ${layer.side} px ${layer.fps}/s ${layer.kbps} kbit/s: round trip, rate, keyframes, loss`, async () => {
      await worker.evaluate((l) => kfGuide.open(l), layer);
      const sources = Array.from({ length: PICTURES + 3 }, (_, i) => areaDownscale(crop(i), layer.side));

      const coded: EncodedPicture[] = [];
      for (let i = 0; i < PICTURES; i++) coded.push(await encode(sources[i]!, i === 0));
      const decoded: DecodedPicture[] = [];
      for (const p of coded) decoded.push(await decode(p));

      const psnrs = decoded.map((d, i) => {
        if (!('rgb' in d)) throw new Error(`picture ${i} did not decode: ${d.error}: ${d.message}`);
        return psnr(lumaOf(sources[i]!, layer.side), lumaOf(d.rgb, layer.side));
      });
      const meanPsnr = psnrs.reduce((a, b) => a + b, 0) / psnrs.length;
      const psnrsRgb = decoded.map((d, i) => ('rgb' in d ? psnr(rgbPlane(sources[i]!, layer.side), rgbPlane(d.rgb, layer.side)) : NaN));
      const meanPsnrRgb = psnrsRgb.reduce((a, b) => a + b, 0) / psnrsRgb.length;
      const bytes = coded.reduce((a, p) => a + p.data.length, 0);
      const kbps = (bytes * 8) / 1000 / (PICTURES / layer.fps);
      const kbpsAfterKey = (coded.slice(1).reduce((a, p) => a + p.data.length, 0) * 8) / 1000 / ((PICTURES - 1) / layer.fps);
      console.log(
        `${layer.codec} ${layer.side} px ${layer.fps}/s target ${layer.kbps} kbit/s: ${PICTURES} pictures, payload ${kbps.toFixed(2)} kbit/s ` +
          `(keyframe ${coded[0]!.data.length} B, deltas ${kbpsAfterKey.toFixed(2)} kbit/s); PSNR-Y mean ${meanPsnr.toFixed(2)} dB, ` +
          `min ${Math.min(...psnrs).toFixed(2)} dB, PSNR-RGB mean ${meanPsnrRgb.toFixed(2)} dB; encode ${stats(coded.map((p) => p.ms))}; decode ${stats(decoded.map((d) => ('ms' in d ? d.ms : NaN)))}`,
      );

      expect(coded.map((p) => p.keyframe)).toEqual(coded.map((_, i) => i === 0));
      expect(meanPsnr).toBeGreaterThan(MIN_MEAN_PSNR_Y[layer.codec]!);
      expect(meanPsnrRgb).toBeGreaterThan(MIN_MEAN_PSNR_RGB[layer.codec]!);
      expect(kbps).toBeGreaterThan(RATE_RANGE[0] * layer.kbps);
      expect(kbps).toBeLessThan(RATE_RANGE[1] * layer.kbps);

      // Handed over all at once (a receiver catching up), the pictures come back in order.
      await worker.evaluate((l) => kfGuide.newDecoder(l), layer);
      const all = await worker.evaluate((ps) => kfGuide.decodeAll(ps), coded.map((p) => ({ keyframe: p.keyframe, data: p.data })));
      console.log(`${layer.codec}: ${all.decoded} pictures handed over at once decoded in ${all.ms.toFixed(1)} ms`);
      expect(all.decoded).toBe(PICTURES);

      // Numbered as the packets number them, a gap stops the chain without the stream saying so.
      await worker.evaluate((l) => kfGuide.newDecoder(l), layer);
      for (const i of [0, 1, 2]) expect(await decode({ ...coded[i]!, number: (254 + i) % 256 })).toHaveProperty('rgb');
      expect(await decode({ ...coded[4]!, number: (254 + 4) % 256 })).toMatchObject({ error: 'GuideChainError' });

      // A receiver that joins on a delta picture has no chain to decode it in.
      await worker.evaluate((l) => kfGuide.newDecoder(l), layer);
      expect(await decode(coded[5]!)).toMatchObject({ error: 'GuideChainError' });

      // Loss: pictures 0-9 arrive, 10 is lost, the stream resets the decoder; 11 cannot decode,
      // the sender is asked for a keyframe, and the chain decodes again from it.
      for (const p of coded.slice(0, 10)) expect(await decode(p)).toHaveProperty('rgb');
      await worker.evaluate(() => kfGuide.reset());
      expect(await decode(coded[11]!)).toMatchObject({ error: 'GuideChainError' });
      const key = await encode(sources[PICTURES]!, true);
      const next = await encode(sources[PICTURES + 1]!, false);
      expect([key.keyframe, next.keyframe]).toEqual([true, false]);
      for (const [p, source] of [[key, sources[PICTURES]!], [next, sources[PICTURES + 1]!]] as const) {
        const d = await decode(p);
        if (!('rgb' in d)) throw new Error(`after the keyframe: ${d.error}: ${d.message}`);
        expect(psnr(lumaOf(source, layer.side), lumaOf(d.rgb, layer.side))).toBeGreaterThan(MIN_MEAN_PSNR_Y[layer.codec]! - 3);
      }
    });
  }

  it('every trained variant on a face: payload rate, quality and speed per picture, against ffmpeg (the training guides) on the same pictures', async () => {
    const { crops, source } = faceCrops();
    const rows: string[] = [];
    for (const [tag, layer] of Object.entries(GUIDE_VARIANTS)) {
      await worker.evaluate((l) => kfGuide.open(l), layer);
      const pictures = crops.filter((_, i) => isGuideSlot(i, layer.fps)).map((c) => areaDownscale(c, layer.side));
      const seconds = pictures.length / layer.fps;
      const kbpsOf = (chunks: readonly { data: ArrayLike<number> }[]): number => (chunks.reduce((a, c) => a + c.data.length, 0) * 8) / 1000 / seconds;
      const psnrYOf = (decoded: readonly ArrayLike<number>[]): number => meanOf(decoded.map((d, i) => psnr(lumaOf(pictures[i]!, layer.side), lumaOf(d, layer.side))));

      // WebCodecs, as the browser's sender and receiver code the guide.
      const coded: EncodedPicture[] = [];
      for (const [i, p] of pictures.entries()) coded.push(await encode(p, i === 0));
      const decoded: DecodedPicture[] = [];
      for (const p of coded) decoded.push(await decode(p));
      const ok = decoded.flatMap((d) => ('rgb' in d ? [d] : []));
      expect(ok.length).toBe(pictures.length);
      expect(coded.map((p) => p.keyframe)).toEqual(coded.map((_, i) => i === 0));
      const kbps = kbpsOf(coded);

      // The same pictures through ffmpeg with the training guides' settings (bench/codecs/guide-ffmpeg.ts);
      // its chunks decoded by WebCodecs, and WebCodecs' chunks by ffmpeg: either end can talk to the other.
      const ffEncoder = await ffmpegGuideCodecs.encoder(layer);
      const ffChunks = [];
      for (const [i, p] of pictures.entries()) ffChunks.push(await ffEncoder.encode(p, i === 0));
      ffEncoder.close();
      await worker.evaluate((l) => kfGuide.newDecoder(l), layer);
      const ffDecoded: number[][] = [];
      for (const c of ffChunks) {
        const d = await decode({ keyframe: c.keyframe, data: Array.from(c.data), ms: 0 });
        if (!('rgb' in d)) throw new Error(`${tag}: WebCodecs could not decode ffmpeg's chunk: ${d.error}: ${d.message}`);
        ffDecoded.push(d.rgb);
      }
      const ivf = ivfFile(layer.codec, layer.side, layer.fps, coded.map((c) => Uint8Array.from(c.data)));
      const { stdout } = await runProcess(FFMPEG, [...FFMPEG_QUIET, '-f', 'ivf', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { stdin: ivf, nice: true });
      const n = layer.side * layer.side * 3;
      expect(stdout.length).toBe(pictures.length * n);
      // Same bitstream, two decoders: only the YUV -> RGB conversions differ (ffmpeg's swscale, codec/yuv420.ts).
      const crossPsnr = meanOf(ok.map((d, i) => psnr(rgbPlane(d.rgb, layer.side), rgbPlane(stdout.subarray(i * n, (i + 1) * n), layer.side))));

      const psnrY = psnrYOf(ok.map((d) => d.rgb));
      const enc = coded.map((p) => p.ms);
      const sorted = [...enc].sort((a, b) => a - b);
      rows.push(
        `| ${tag} | ${pictures.length} | ${kbps.toFixed(2)} / ${psnrY.toFixed(2)} / ${coded[0]!.data.length} | ${kbpsOf(ffChunks).toFixed(2)} / ${psnrYOf(ffDecoded).toFixed(2)} / ${ffChunks[0]!.data.length} | ` +
          `${meanOf(enc).toFixed(2)} / ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} / ${Math.max(...enc.slice(1)).toFixed(2)} | ${enc[0]!.toFixed(1)} | ${meanOf(ok.map((d) => d.ms)).toFixed(2)} | ${crossPsnr.toFixed(1)} |`,
      );
      // Rate control near the target over the clip (the keyframe included).
      expect(kbps).toBeGreaterThan(0.5 * layer.kbps);
      expect(kbps).toBeLessThan(1.5 * layer.kbps);
      expect(crossPsnr).toBeGreaterThan(40);
    }
    console.log(
      `WebCodecs guide codecs on ${source} (${crops.length} crops at 25/s, area-downscaled; ms per picture in the worker, RGB in to chunk out and chunk in to RGB out):\n` +
        '| variant | pictures | WebCodecs kbit/s / PSNR-Y dB / keyframe B | ffmpeg (training) kbit/s / PSNR-Y dB / keyframe B | WebCodecs encode ms mean / median / max after the first | first encode ms | decode ms mean | PSNR ffmpeg vs WebCodecs decode of the same chunks, dB |\n' +
        '| --- | --- | --- | --- | --- | --- | --- | --- |\n' +
        rows.join('\n'),
    );
  }, 400_000);
});
