import type { Plane } from './plane.ts';

/** Normalised 1-D Gaussian taps; the 2-D window of SSIM is their outer product. */
export function gaussianTaps(size: number, sigma: number): Float64Array {
  const taps = new Float64Array(size);
  const centre = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const d = i - centre;
    taps[i] = Math.exp(-(d * d) / (2 * sigma * sigma));
    sum += taps[i]!;
  }
  for (let i = 0; i < size; i++) taps[i]! /= sum;
  return taps;
}

/**
 * Separable correlation keeping only the 'valid' region (no padding), as in Wang's reference
 * ssim_index.m (filter2(..., 'valid')). Output is (w - n + 1) x (h - n + 1).
 */
export function filterValid(src: Float64Array, width: number, height: number, taps: Float64Array): Plane {
  const n = taps.length;
  const ow = width - n + 1;
  const oh = height - n + 1;
  if (ow <= 0 || oh <= 0) throw new Error(`image ${width}x${height} smaller than ${n}x${n} window`);
  const rows = new Float64Array(ow * height);
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += taps[k]! * src[base + x + k]!;
      rows[y * ow + x] = acc;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += taps[k]! * rows[(y + k) * ow + x]!;
      out[y * ow + x] = acc;
    }
  }
  return { width: ow, height: oh, data: out };
}
