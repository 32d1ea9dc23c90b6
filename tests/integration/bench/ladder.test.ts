import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itNeeds } from '../../helpers/needs.ts';
import { FfmpegCodec } from '../../../bench/codecs/ffmpeg-codec.ts';
import { encodeFilter, ladderPoints, picturesTaken } from '../../../bench/codecs/ladder.ts';
import { RTP_PACKET_OVERHEAD } from '../../../bench/codecs/rtp-overhead.ts';
import { STANDARD_CODEC_SPECS } from '../../../bench/codecs/standard-codecs.ts';
import type { ClipEntry } from '../../../bench/manifest.ts';
import { measureFrame } from '../../../bench/metrics/frame-metrics.ts';
import { planeFromBytes } from '../../../bench/metrics/plane.ts';
import { loadY4m, type PreparedClip } from '../../../bench/prepared-clip.ts';
import { hasFfmpeg } from './synthetic-face-clip.ts';

// One ladder point through real ffmpeg: a synthetic 256x256 25 fps clip coded by VP8 at 64 px
// and 10 fps, decoded and shown the way a receiver shows it. Needs Debian's ffmpeg.
const needs = itNeeds(hasFfmpeg ? null : 'ffmpeg is not installed (apt-get install ffmpeg)');
const FRAMES = 25;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kf-ladder-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function ffmpeg(args: string[]): Buffer {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return r.stdout;
}

describe('ladder through ffmpeg', () => {
  needs('the sender filter takes, for each 10 fps slot, the latest 25 fps frame at or before it', () => {
    // Frame i is flat grey of value 10 + 8 i, so the picked frames can be read back from their luma.
    const y4m = join(dir, 'numbered.y4m');
    ffmpeg(['-f', 'lavfi', '-i', `color=c=black:s=16x16:r=25:d=1,format=gray,geq=lum='10+8*N',format=yuv420p`, '-f', 'yuv4mpegpipe', y4m]);
    const out = ffmpeg(['-i', y4m, '-vf', encodeFilter({ size: 256, fps: 10 })!, '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
    const picked = Array.from({ length: out.length / 256 }, (_, j) => (out[j * 256]! - 10) / 8);
    expect(picked).toHaveLength(picturesTaken(FRAMES, 10));
    // Slot j at j / 10 s: the latest source frame i with i / 25 <= j / 10, i.e. floor(2.5 j).
    expect(picked).toEqual(picked.map((_, j) => Math.floor(2.5 * j)));
  });

  needs('a 64 px 10 fps VP8 point: shown at 256 px and 25 fps, fewer RTP packets on the wire', { timeout: 60_000 }, async () => {
    const y4mPath = join(dir, 'clip.y4m');
    ffmpeg(['-f', 'lavfi', '-i', `testsrc2=s=256x256:r=25:d=${FRAMES / 25}`, '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', y4mPath]);
    const clip: PreparedClip = {
      id: 'synthetic', entry: { file: 'synthetic.y4m' } as ClipEntry, crop: { x: 0, y: 0, size: 256 }, y4mPath, frameCount: FRAMES,
    };
    const codec = new FfmpegCodec(STANDARD_CODEC_SPECS.find((s) => s.id === 'vp8')!, [{ size: 64, fps: 10 }]);
    const point = ladderPoints([40], [{ size: 64, fps: 10 }]).find((p) => p.id === '64px10-40k')!;
    const run = await codec.run({ clip, point, workDir: join(dir, 'work'), threads: 1 });

    expect(run.decodedFrames).toHaveLength(FRAMES);
    for (const f of run.decodedFrames) expect(f.length).toBe(256 * 256 * 1.5);
    // 10 pictures in 1 s, each shown for 2 or 3 source frames: 0 0 0 1 1 2 2 2 ...
    expect(run.decodedFrames[1]).toBe(run.decodedFrames[0]);
    expect(run.decodedFrames[2]).toBe(run.decodedFrames[0]);
    expect(run.decodedFrames[3]).not.toBe(run.decodedFrames[2]);
    expect(run.decodedFrames[4]).toBe(run.decodedFrames[3]);
    expect(new Set(run.decodedFrames).size).toBe(picturesTaken(FRAMES, 10));
    // One RTP frame per coded picture (each small enough for one packet), plus VP8's hidden
    // alt-ref frames: about 10 packets' headers, not 25.
    expect(run.bits.packets).toBeGreaterThanOrEqual(picturesTaken(FRAMES, 10));
    expect(run.bits.packets).toBeLessThan(FRAMES / 2);
    expect(run.bits.wireBytes).toBe(run.bits.payloadBytes + run.bits.packets * RTP_PACKET_OVERHEAD);
    // Bicubic scale-back of a 64 px picture: close to the source, but visibly blurred.
    const source = (await loadY4m(y4mPath)).frames;
    const luma = (f: Uint8Array) => planeFromBytes(256, 256, f.subarray(0, 256 * 256));
    const q = measureFrame(luma(source[0]!), luma(run.decodedFrames[0]!));
    expect(q.psnr).toBeGreaterThan(14);
    expect(q.psnr).toBeLessThan(35);
    expect(run.commands.some((c) => c.includes('fps=10:round=up,scale=64:64:flags=area'))).toBe(true);
    expect(run.commands.some((c) => c.includes('scale=256:256:flags=bicubic'))).toBe(true);
  });
});
