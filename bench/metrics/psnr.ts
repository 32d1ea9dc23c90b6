import { assertSameSize, type Plane } from './plane.ts';

/**
 * PSNR is unbounded for identical images. Like libvpx's test tools (MAX_PSNR), we cap it at
 * 100 dB so that averages over frames stay finite and JSON can hold them.
 */
export const PSNR_CAP_DB = 100;

export function meanSquaredError(a: Plane, b: Plane): number {
  assertSameSize(a, b);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! - b.data[i]!;
    sum += d * d;
  }
  return sum / a.data.length;
}

/** PSNR in dB for 8-bit samples (peak 255), capped at PSNR_CAP_DB. */
export function psnrFromMse(mse: number): number {
  if (mse <= 0) return PSNR_CAP_DB;
  return Math.min(PSNR_CAP_DB, 10 * Math.log10((255 * 255) / mse));
}

export function psnr(a: Plane, b: Plane): number {
  return psnrFromMse(meanSquaredError(a, b));
}
