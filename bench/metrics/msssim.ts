import { downsample2x2, type Plane } from './plane.ts';
import { ssimComponents } from './ssim.ts';

// Wang, Simoncelli, Bovik 2003, "Multi-scale structural similarity for image quality
// assessment": five scales, these exponents, 2x2 average then decimate between scales.
export const MS_SSIM_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333] as const;

/**
 * MS-SSIM = prod_{j<5} cs_j^w_j * ssim_5^w_5. Needs at least 176 px per side (the 11x11
 * window must fit at 1/16 size). Negative scale values (only seen on unrelated images) are
 * clamped to 0 before the power, as pytorch_msssim does, instead of producing NaN.
 */
export function msssim(a: Plane, b: Plane): number {
  return msssimWithFullScaleSsim(a, b).msssim;
}

/** MS-SSIM plus the single-scale SSIM that its first scale computes anyway (saves one pass). */
export function msssimWithFullScaleSsim(a: Plane, b: Plane): { msssim: number; ssim: number } {
  const scales = MS_SSIM_WEIGHTS.length;
  const minSide = 11 * 2 ** (scales - 1);
  if (Math.min(a.width, a.height) < minSide) {
    throw new Error(`MS-SSIM needs images of at least ${minSide}x${minSide}, got ${a.width}x${a.height}`);
  }
  let x = a;
  let y = b;
  let result = 1;
  let fullScaleSsim = NaN;
  for (let s = 0; s < scales; s++) {
    const { ssim, contrastStructure } = ssimComponents(x, y);
    if (s === 0) fullScaleSsim = ssim;
    const value = s === scales - 1 ? ssim : contrastStructure;
    result *= Math.max(0, value) ** MS_SSIM_WEIGHTS[s]!;
    if (s < scales - 1) {
      x = downsample2x2(x);
      y = downsample2x2(y);
    }
  }
  return { msssim: result, ssim: fullScaleSsim };
}
