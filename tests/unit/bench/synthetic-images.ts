// Deterministic test images made with integer arithmetic only, so that the Python reference
// script (reference/metric_reference.py) builds bit-identical images and the stored reference
// values apply. No pixels from real clips are used in tests.
import { planeFromBytes, type Plane } from '../../../bench/metrics/plane.ts';

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 8;
  };
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** A face-sized test card: XOR texture, a bright disc, a dark bar, mild noise. */
export function testCard(size: number): Uint8Array {
  const rand = lcg(12345);
  const img = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let v = ((x ^ y) & 0x7f) + 40;
      const dx = x - (size >> 1);
      const dy = y - ((size * 2) >> 3);
      if (dx * dx + dy * dy < (size >> 2) * (size >> 2)) v = 200 - (((x + y) >> 2) & 31);
      if (y > (size * 3) >> 2 && y < ((size * 3) >> 2) + (size >> 4)) v = 20;
      img[y * size + x] = clamp(v + (rand() % 24) - 12);
    }
  }
  return img;
}

/** 3x3 box blur (floor division, edges clamped) plus noise: a typical codec-like loss. */
export function blurredNoisy(src: Uint8Array, size: number): Uint8Array {
  const rand = lcg(777);
  const out = new Uint8Array(size * size);
  const at = (x: number, y: number): number =>
    src[Math.min(size - 1, Math.max(0, y)) * size + Math.min(size - 1, Math.max(0, x))]!;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let j = -1; j <= 1; j++) for (let i = -1; i <= 1; i++) s += at(x + i, y + j);
      out[y * size + x] = clamp(Math.floor(s / 9) + (rand() % 16) - 8);
    }
  }
  return out;
}

/** Brightness shift: structure intact, luminance term and PSNR hit. */
export function shifted(src: Uint8Array, offset: number): Uint8Array {
  return src.map((v) => clamp(v + offset));
}

export function asPlane(bytes: Uint8Array, size: number): Plane {
  return planeFromBytes(size, size, bytes);
}
