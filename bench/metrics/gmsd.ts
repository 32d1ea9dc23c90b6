import { assertSameSize, downsample2x2, type Plane } from './plane.ts';

// Xue, Zhang, Mou, Bovik 2014, "Gradient magnitude similarity deviation". Follows the
// authors' GMSD.m: 2x2 average and decimate, Prewitt gradients (/3) with zero padding
// ('same' size), similarity constant T = 170 for 0..255 data, score = standard deviation
// (N-1 normalised, Matlab std2) of the similarity map. 0 = identical; larger = worse.
// Blur lowers gradient magnitude, so GMSD penalises the smearing that PSNR/SSIM forgive.
const T = 170;

function gradientMagnitude(p: Plane): Float64Array {
  const { width: w, height: h, data } = p;
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= w || y >= h ? 0 : data[y * w + x]!);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const gx =
        (at(x + 1, y - 1) + at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - at(x - 1, y) - at(x - 1, y + 1)) / 3;
      const gy =
        (at(x - 1, y + 1) + at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - at(x, y - 1) - at(x + 1, y - 1)) / 3;
      out[y * w + x] = Math.sqrt(gx * gx + gy * gy);
    }
  }
  return out;
}

export function gmsd(a: Plane, b: Plane): number {
  assertSameSize(a, b);
  const ga = gradientMagnitude(downsample2x2(a));
  const gb = gradientMagnitude(downsample2x2(b));
  const n = ga.length;
  const map = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const m1 = ga[i]!;
    const m2 = gb[i]!;
    map[i] = (2 * m1 * m2 + T) / (m1 * m1 + m2 * m2 + T);
    mean += map[i]!;
  }
  mean /= n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (map[i]! - mean) ** 2;
  return Math.sqrt(sq / (n - 1));
}
