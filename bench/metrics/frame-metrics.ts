import { gmsd } from './gmsd.ts';
import { msssimWithFullScaleSsim } from './msssim.ts';
import type { Plane } from './plane.ts';
import { meanSquaredError, psnrFromMse } from './psnr.ts';

/** Full-reference quality of one decoded frame against its source, on the luma plane. */
export interface FrameQuality {
  psnr: number;
  ssim: number;
  msssim: number;
  gmsd: number;
}

export const QUALITY_METRICS = ['psnr', 'ssim', 'msssim', 'gmsd'] as const;
export type QualityMetric = (typeof QUALITY_METRICS)[number];

/** GMSD is a distortion (lower is better); the others are similarities. */
export function higherIsBetter(metric: QualityMetric): boolean {
  return metric !== 'gmsd';
}

export function measureFrame(source: Plane, decoded: Plane): FrameQuality {
  const multiScale = msssimWithFullScaleSsim(source, decoded);
  return {
    psnr: psnrFromMse(meanSquaredError(source, decoded)),
    ssim: multiScale.ssim,
    msssim: multiScale.msssim,
    gmsd: gmsd(source, decoded),
  };
}

/** Clip value = arithmetic mean of the per-frame values (PSNR per frame already capped). */
export function meanQuality(frames: readonly FrameQuality[]): FrameQuality {
  if (frames.length === 0) throw new Error('no frames to average');
  const sum = { psnr: 0, ssim: 0, msssim: 0, gmsd: 0 };
  for (const f of frames) for (const m of QUALITY_METRICS) sum[m] += f[m];
  for (const m of QUALITY_METRICS) sum[m] /= frames.length;
  return sum;
}
