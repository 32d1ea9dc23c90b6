import { filterValid, gaussianTaps } from './gaussian-filter.ts';
import { assertSameSize, type Plane } from './plane.ts';

// Wang, Bovik, Sheikh, Simoncelli 2004, "Image quality assessment: from error visibility to
// structural similarity": 11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255.
const WINDOW = gaussianTaps(11, 1.5);
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

export interface SsimComponents {
  /** Mean of the full SSIM map (luminance x contrast-structure). */
  ssim: number;
  /** Mean of the contrast-structure map alone, used by MS-SSIM at the finer scales. */
  contrastStructure: number;
}

/** SSIM map means over the valid region (the window never leaves the image). */
export function ssimComponents(a: Plane, b: Plane): SsimComponents {
  assertSameSize(a, b);
  const { width, height } = a;
  const n = a.data.length;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    aa[i] = x * x;
    bb[i] = y * y;
    ab[i] = x * y;
  }
  const muA = filterValid(a.data, width, height, WINDOW).data;
  const muB = filterValid(b.data, width, height, WINDOW).data;
  const eAA = filterValid(aa, width, height, WINDOW).data;
  const eBB = filterValid(bb, width, height, WINDOW).data;
  const eAB = filterValid(ab, width, height, WINDOW).data;
  let ssimSum = 0;
  let csSum = 0;
  for (let i = 0; i < muA.length; i++) {
    const ma = muA[i]!;
    const mb = muB[i]!;
    const varA = eAA[i]! - ma * ma;
    const varB = eBB[i]! - mb * mb;
    const cov = eAB[i]! - ma * mb;
    const cs = (2 * cov + C2) / (varA + varB + C2);
    const luminance = (2 * ma * mb + C1) / (ma * ma + mb * mb + C1);
    csSum += cs;
    ssimSum += luminance * cs;
  }
  return { ssim: ssimSum / muA.length, contrastStructure: csSum / muA.length };
}

export function ssim(a: Plane, b: Plane): number {
  return ssimComponents(a, b).ssim;
}
