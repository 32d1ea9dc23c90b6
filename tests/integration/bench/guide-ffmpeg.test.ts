import { execFileSync } from 'node:child_process';
import { describe, expect } from 'vitest';
import { ffmpegGuideCodecs, guideEncoderArgs, GUIDE_VARIANTS, ivfFile } from '../../../bench/codecs/guide-ffmpeg.ts';
import { GuideChainError, guideTo64 } from '../../../codec/stream/guide-codec.ts';
import { itNeeds } from '../../helpers/needs.ts';
import { hasFfmpeg } from './synthetic-face-clip.ts';

// The Node guide codec (bench/codecs/guide-ffmpeg.ts): ffmpeg with guides.py's arguments, one
// picture at a time. Needs Debian's ffmpeg (libaom-av1, libvpx-vp9, libdav1d).
const needs = itNeeds(hasFfmpeg ? null : 'ffmpeg is not installed (apt-get install ffmpeg)');

/** A smooth moving test picture (side x side RGB), picture k of a sequence. */
function picture(side: number, k: number): Uint8Array {
  const rgb = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      for (let c = 0; c < 3; c++) rgb[(y * side + x) * 3 + c] = Math.round(128 + 90 * Math.sin(((x + k) * 0.3 * 32) / side + c) * Math.cos((y * 0.25 * 32) / side));
    }
  }
  return rgb;
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / Math.max(se / a.length, 1e-10));
}

describe('ffmpeg guide codec', () => {
  needs.each(Object.entries(GUIDE_VARIANTS))('%s: round trip, forced keyframes, and the chunks of one ffmpeg run', async (_tag, layer) => {
    const encoder = await ffmpegGuideCodecs.encoder(layer);
    const decoder = await ffmpegGuideCodecs.decoder(layer);
    const pictures = Array.from({ length: 12 }, (_, k) => picture(layer.side, k));
    const chunks = [];
    const decoded: Uint8Array[] = [];
    const quality: number[] = [];
    try {
      for (const [k, rgb] of pictures.entries()) {
        const chunk = await encoder.encode(rgb, k === 0 || k === 8);
        expect(chunk.keyframe).toBe(k === 0 || k === 8);
        chunks.push(chunk);
        decoded.push(await decoder.decode(chunk));
        quality.push(psnr(rgb, decoded.at(-1)!));
      }
      // Measured 2026-12-06: 23.7-30 dB over these pictures (32 px at 3 kbit/s the lowest).
      expect(Math.min(...quality)).toBeGreaterThan(20);
      decoder.reset();
      await expect(decoder.decode(chunks[9]!)).rejects.toBeInstanceOf(GuideChainError);
    } finally {
      encoder.close();
      decoder.close();
    }
    // Coded one at a time, the first run's chunks are exactly what one ffmpeg run over its 8
    // pictures writes: no look-ahead, nothing a real-time sender could not send at once.
    const args = guideEncoderArgs(layer);
    args.splice(args.indexOf('-flush_packets'), 2);
    const batch = execFileSync('ffmpeg', args, { input: Buffer.concat(pictures.slice(0, 8)) });
    expect(Buffer.from(ivfFile(layer.codec, layer.side, layer.fps, chunks.slice(0, 8).map((c) => c.data))).subarray(32)).toEqual(batch.subarray(32));
    // Decoded one at a time by one running ffmpeg per keyframe run, the pictures are exactly what
    // one decode of each run's chunks gives.
    for (const [from, to] of [[0, 8], [8, 12]] as const) {
      const ivf = ivfFile(layer.codec, layer.side, layer.fps, chunks.slice(from, to).map((c) => c.data));
      const pictures = execFileSync('ffmpeg', ['-v', 'error', '-f', 'ivf', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { input: ivf });
      expect(Buffer.concat(decoded.slice(from, to)).equals(pictures), `pictures ${from}-${to - 1}`).toBe(true);
    }
  }, 120_000);

  needs('guideTo64 is within 2 levels of ffmpeg scale=64:64:flags=bicubic', () => {
    for (const side of [32, 48]) {
      const rgb = picture(side, 3).map((v, i) => Math.min(255, v + ((i * 7) % 17)));
      const ffmpeg = execFileSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${side}x${side}`, '-i', '-', '-vf', 'scale=64:64:flags=bicubic', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { input: rgb });
      const mine = guideTo64(rgb, side);
      let max = 0;
      for (let i = 0; i < mine.length; i++) max = Math.max(max, Math.abs(mine[i]! - ffmpeg[i]!));
      expect(max, `side ${side}`).toBeLessThanOrEqual(2); // measured: 1 (32 px), 2 (48 px)
    }
    expect(guideTo64(picture(64, 0), 64)).toEqual(picture(64, 0));
  }, 30_000);
});
