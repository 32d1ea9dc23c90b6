import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itNeeds } from '../../helpers/needs.ts';
import { CentreSquareCropProvider, cropProviderByName, SourceFramingCropProvider, TrackerCropProvider } from '../../../bench/crop.ts';
import { missingFaceModels } from '../../../codec/runners/shipped-node.ts';
import { readManifest } from '../../../bench/manifest.ts';
import { parseBenchArgs } from '../../../bench/options.ts';
import { cropFilters, loadY4m, preparationArgs, prepareClip } from '../../../bench/prepared-clip.ts';
import { hasFfmpeg, syntheticFaceDataDir } from './synthetic-face-clip.ts';

const missing = missingFaceModels();
const canTrack = hasFfmpeg && missing.length === 0;
const why = !hasFfmpeg ? 'ffmpeg is not installed' : `face models missing: ${missing.join(', ')}`;
const named = (title: string): string => (canTrack ? title : `${title} (SKIPPED: ${why})`);

const entry = (width: number, height: number) => ({
  file: 'x.mp4', kind: 'talking-head', width, height, fps: 25, frames: 100, sha256: '', personId: 'P1', person: 'P1', licence: '',
});

describe('crop rules', () => {
  it('the tracker crop is the default; the older rules stay available by name', () => {
    const p = parseBenchArgs(['--out', '/tmp/x']);
    expect(p.kind === 'run' && p.options.crop).toBe('tracker');
    const where = { dataDir: '/nonexistent', cacheDir: '/nonexistent' };
    expect(cropProviderByName('tracker', where)).toBeInstanceOf(TrackerCropProvider);
    expect(cropProviderByName('source-framing', where)).toBeInstanceOf(SourceFramingCropProvider);
    expect(cropProviderByName('centre', where)).toBeInstanceOf(CentreSquareCropProvider);
    expect(() => cropProviderByName('face', where)).toThrow(/tracker \| source-framing \| centre/);
  });

  it('a box reaching outside the frame is padded by repeating edge pixels, not rejected by ffmpeg', () => {
    const inside = preparationArgs('in.mp4', entry(320, 240), { x: 10, y: 20, size: 200 }, 25, 'out.y4m').join(' ');
    expect(inside).toContain('crop=200:200:10:20');
    expect(inside).not.toContain('pad=');
    const outside = preparationArgs('in.mp4', entry(320, 240), { x: -30, y: -10, size: 300 }, 25, 'out.y4m').join(' ');
    // Worst overhang: -10 + 300 - 240 = 50 px below the frame (30 on the left, 10 above).
    expect(outside).toContain('pad=iw+100:ih+100:50:50,fillborders=left=50:right=50:top=50:bottom=50:mode=smear,crop=300:300:20:40,');
  });

  itNeeds(hasFfmpeg ? null : 'ffmpeg is not installed')('an odd overhang on a 4:2:0 picture leaves no black bar on the right or bottom', () => {
    // 3 px past the right edge and 9 past the bottom of a white 64x48 picture: the pad rounds up
    // to 10 (ffmpeg's pad filter places 4:2:0 pictures at even offsets only).
    const box = { x: 10, y: 0, size: 57 };
    expect(cropFilters(box, 64, 48)[0]).toBe('pad=iw+20:ih+20:10:10');
    const run = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=white:size=64x48:rate=1', '-frames:v', '1',
      '-vf', ['format=yuv420p', ...cropFilters(box, 64, 48), 'format=gray'].join(','), '-f', 'rawvideo', '-']);
    expect(run.status).toBe(0);
    const luma = new Uint8Array(run.stdout);
    expect(luma.length).toBe(256 * 256);
    expect(Math.min(...luma)).toBeGreaterThan(200); // all white: the border repeats the picture's edge
  });
});

describe('TrackerCropProvider (the codec\'s crop rule on the tracker)', () => {
  let data = '';
  let cache = '';
  beforeAll(async () => {
    if (!canTrack) return;
    // Non-square on purpose: the tracker crop needs no square source.
    data = await syntheticFaceDataDir({ width: 320, height: 240, frames: 30, cx: 150, cy: 125, size: 110 });
    cache = await mkdtemp(join(tmpdir(), 'kf-bench-cache-'));
  }, 60_000);
  afterAll(async () => {
    for (const dir of [data, cache]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  itNeeds(canTrack ? null : why)(named('boxes the first face frame by reference-crop.ts, caches it, and the prepared clip is that square'), { timeout: 60_000 }, async () => {
    const [clip] = await readManifest(join(data, 'MANIFEST.tsv'));
    const provider = new TrackerCropProvider(data, cache);
    const decision = await provider.cropFor(clip!);
    if (!decision.ok) throw new Error(decision.reason);
    const { box } = decision;
    // Twice the face's landmark extent, around the face: the synthetic face's drawing is 110 px,
    // its landmarks span less (about 70 px), so the square is 100-240 px around the face centre.
    expect(box.size).toBeGreaterThan(100);
    expect(box.size).toBeLessThan(240);
    expect(box.x).toBeLessThan(150);
    expect(box.x + box.size).toBeGreaterThan(150);
    expect(box.y).toBeLessThan(125);
    expect(box.y + box.size).toBeGreaterThan(125);
    // Cached: one file, and the same answer again.
    expect((await readdir(join(cache, 'crops'))).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(await provider.cropFor(clip!)).toEqual(decision);
    // The bench input is that square at 256x256.
    const prepared = await prepareClip(data, 'face', clip!, box, 10, cache);
    const video = await loadY4m(prepared.y4mPath);
    expect([video.width, video.height, video.frames.length]).toEqual([256, 256, 10]);
  });

  itNeeds(canTrack ? null : why)(named('a clip without a face is skipped with the reason'), { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kf-bench-noface-'));
    try {
      await mkdir(join(dir, 'clips'));
      const made = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=25:d=1.2', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', join(dir, 'clips', 'testsrc2.y4m')]);
      expect(made.status).toBe(0);
      const decision = await new TrackerCropProvider(dir, cache).cropFor({ ...entry(160, 120), file: 'testsrc2.y4m', frames: 30 });
      expect(decision.ok).toBe(false);
      if (!decision.ok) expect(decision.reason).toMatch(/no face in the 30 frames/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
