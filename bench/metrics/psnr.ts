import { PSNR_CAP_DB } from '../../codec/shipped.ts';
import { assertSameSize, type Plane } from './plane.ts';

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
