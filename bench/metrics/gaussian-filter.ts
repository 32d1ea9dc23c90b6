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
