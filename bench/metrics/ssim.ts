import { gaussianTaps } from './gaussian-filter.ts';
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

/**
 * SSIM map means over the valid region (the window never leaves the image), as
 * filter2(window, x, 'valid') in the reference code. The five local moments (means of x, y,
 * x^2, y^2, xy) are filtered together, rows then columns, which is what makes this fast
 * enough to run on every frame of every job.
 */
export function ssimComponents(a: Plane, b: Plane): SsimComponents {
  assertSameSize(a, b);
  const { width, height } = a;
  const n = WINDOW.length;
  const ow = width - n + 1;
  const oh = height - n + 1;
  if (ow <= 0 || oh <= 0) throw new Error(`image ${width}x${height} smaller than ${n}x${n} window`);
  const x = a.data;
  const y = b.data;
  // Horizontal pass: 5 moment planes of size ow x height, interleaved for locality.
  const rows = new Float64Array(5 * ow * height);
  for (let r = 0; r < height; r++) {
    const base = r * width;
    for (let c = 0; c < ow; c++) {
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      for (let k = 0; k < n; k++) {
        const w = WINDOW[k]!;
        const vx = x[base + c + k]!;
        const vy = y[base + c + k]!;
        sx += w * vx;
        sy += w * vy;
        sxx += w * vx * vx;
        syy += w * vy * vy;
        sxy += w * vx * vy;
      }
      const o = 5 * (r * ow + c);
      rows[o] = sx;
      rows[o + 1] = sy;
      rows[o + 2] = sxx;
      rows[o + 3] = syy;
      rows[o + 4] = sxy;
    }
  }
  // Vertical pass and the SSIM formula, accumulated directly into the two means.
  let ssimSum = 0;
  let csSum = 0;
  const stride = 5 * ow;
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      let mx = 0;
      let my = 0;
      let exx = 0;
      let eyy = 0;
      let exy = 0;
      let o = 5 * (r * ow + c);
      for (let k = 0; k < n; k++, o += stride) {
        const w = WINDOW[k]!;
        mx += w * rows[o]!;
        my += w * rows[o + 1]!;
        exx += w * rows[o + 2]!;
        eyy += w * rows[o + 3]!;
        exy += w * rows[o + 4]!;
      }
      const varX = exx - mx * mx;
      const varY = eyy - my * my;
      const cov = exy - mx * my;
      const cs = (2 * cov + C2) / (varX + varY + C2);
      csSum += cs;
      ssimSum += ((2 * mx * my + C1) / (mx * mx + my * my + C1)) * cs;
    }
  }
  const count = ow * oh;
  return { ssim: ssimSum / count, contrastStructure: csSum / count };
}

export function ssim(a: Plane, b: Plane): number {
  return ssimComponents(a, b).ssim;
}
