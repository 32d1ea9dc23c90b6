import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeNeeds } from '../../helpers/needs.ts';
import { DECODER_DIR } from '../../../codec/shipped.ts';
import { drawSyntheticFace } from '../../helpers/tracker/synthetic-face.ts';
import { hasFfmpeg } from '../bench/synthetic-face-clip.ts';

// `npm run eval` on a clip folder the test makes itself: one synthetic talking face, 1 s.
const MODEL_DIR = process.env.KILOFACE_MODEL_DIR ?? path.resolve(DECODER_DIR);
const dir = mkdtempSync(path.join(tmpdir(), 'kiloface-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeNeeds(hasFfmpeg ? null : 'ffmpeg is not installed')('npm run eval on a synthetic clip folder', () => {
  it('writes per-clip and mean L1/PSNR/SSIM/MS-SSIM for frozen, warp and refiner, and the decoder speed', () => {
    mkdirSync(path.join(dir, 'clips'));
    const [width, height, frames] = [320, 240, 25];
    const raw = Buffer.concat(
      Array.from({ length: frames }, (_, t) => {
        const face = drawSyntheticFace({ width, height, cx: 160 + 12 * Math.sin(t / 4), cy: 120 + 4 * Math.cos(t / 5), size: 150, angle: 0.05 * Math.sin(t / 6), noise: 2, seed: t });
        const rgb = Buffer.alloc(width * height * 3);
        for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = face.data[i * face.channels + c]!;
        return rgb;
      }),
    );
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', '25', '-i', '-', '-c:v', 'libx264', '-crf', '12', '-pix_fmt', 'yuv420p', path.join(dir, 'clips', 'face.mp4')], { input: raw });
    writeFileSync(
      path.join(dir, 'MANIFEST.tsv'),
      ['file\tkind\twidth\theight\tfps\tframes\tperson', `face.mp4\ttalking-head\t${width}\t${height}\t25\t${frames}\tT01 synthetic`, ''].join('\n'),
    );
    const out = path.join(dir, 'eval.json');
    execFileSync('npx', ['tsx', 'bench/eval-decoder.ts', '--data', dir, '--out', out, '--max-frames', '20', '--model', MODEL_DIR, '--threads', '1'], { stdio: 'pipe' });
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.clips).toHaveLength(1);
    expect(result.clips[0].frames).toBeGreaterThan(10);
    for (const name of ['frozen', 'warp', 'refiner']) {
      for (const metric of ['l1', 'psnr', 'ssim', 'msssim']) expect(Number.isFinite(result.mean[name][metric]), `${name}.${metric}`).toBe(true);
      expect(result.mean[name].ssim).toBeLessThanOrEqual(1);
    }
    // The face moves: following it must beat holding the reference still.
    expect(result.mean.warp.psnr).toBeGreaterThan(result.mean.frozen.psnr);
    expect(result.ms_per_frame).toBeGreaterThan(0);
  }, 120_000);
});
