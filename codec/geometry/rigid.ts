// Similarity transforms in 3-D: weighted Procrustes (Horn's quaternion method) and rotation
// vectors. Small, dependency-free, and exact enough for 468 landmarks at 30 fps.

export type Mat3 = [number, number, number, number, number, number, number, number, number]; // row-major
export type Vec3 = [number, number, number];

export interface Similarity {
  scale: number;
  rotation: Mat3;
  translation: Vec3;
}

/** Eigenvector of the largest eigenvalue of a symmetric 4x4 matrix (cyclic Jacobi). */
function largestEigenvector4(m: number[][]): number[] {
  const a = m.map((row) => row.slice());
  const v: number[][] = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j): number => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += a[p]![q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = a[p]![q]!;
        if (Math.abs(apq) < 1e-30) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < 4; i++) if (a[i]![i]! > a[best]![best]!) best = i;
  return [0, 1, 2, 3].map((k) => v[k]![best]!);
}

function quaternionToMatrix(q: number[]): Mat3 {
  const [w, x, y, z] = [q[0]!, q[1]!, q[2]!, q[3]!];
  return [
    w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z,
  ] as Mat3;
}

/**
 * The similarity (s, R, t) minimising Σ w_i |s R src_i + t − dst_i|² over the listed points
 * (Horn 1987; the quaternion gives a proper rotation directly). Points are xyz triples in flat arrays.
 */
export function weightedProcrustes(src: ArrayLike<number>, dst: ArrayLike<number>, ids: ArrayLike<number>, weights: ArrayLike<number>): Similarity {
  let wSum = 0;
  const ms = [0, 0, 0];
  const md = [0, 0, 0];
  for (let k = 0; k < ids.length; k++) {
    const i = ids[k]! * 3;
    const w = weights[k]!;
    wSum += w;
    for (let c = 0; c < 3; c++) {
      ms[c]! += w * src[i + c]!;
      md[c]! += w * dst[i + c]!;
    }
  }
  for (let c = 0; c < 3; c++) {
    ms[c]! /= wSum;
    md[c]! /= wSum;
  }
  // Cross-covariance S[a][b] = Σ w (src_a − ms_a)(dst_b − md_b), and the source's spread.
  const S = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  let spread = 0;
  for (let k = 0; k < ids.length; k++) {
    const i = ids[k]! * 3;
    const w = weights[k]!;
    const a = [src[i]! - ms[0]!, src[i + 1]! - ms[1]!, src[i + 2]! - ms[2]!];
    const b = [dst[i]! - md[0]!, dst[i + 1]! - md[1]!, dst[i + 2]! - md[2]!];
    spread += w * (a[0]! ** 2 + a[1]! ** 2 + a[2]! ** 2);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) S[r * 3 + c]! += w * a[r]! * b[c]!;
  }
  const [sxx, sxy, sxz, syx, syy, syz, szx, szy, szz] = S as Mat3;
  const N = [
    [sxx + syy + szz, syz - szy, szx - sxz, sxy - syx],
    [syz - szy, sxx - syy - szz, sxy + syx, szx + sxz],
    [szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy],
    [sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz],
  ];
  const rotation = quaternionToMatrix(largestEigenvector4(N));
  // s = Σ w b·(R a) / Σ w |a|²  = trace(R S) / spread
  let trace = 0;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) trace += rotation[r * 3 + c]! * S[c * 3 + r]!;
  const scale = trace / spread;
  const rm = applyRotation(rotation, ms as Vec3);
  return { scale, rotation, translation: [md[0]! - scale * rm[0], md[1]! - scale * rm[1], md[2]! - scale * rm[2]] };
}

export function applyRotation(r: Mat3, [x, y, z]: Vec3): Vec3 {
  return [r[0] * x + r[1] * y + r[2] * z, r[3] * x + r[4] * y + r[5] * z, r[6] * x + r[7] * y + r[8] * z];
}

/** Rodrigues: rotation vector (axis × angle, radians) → matrix. */
export function rotvecToMatrix([x, y, z]: Vec3): Mat3 {
  const theta = Math.hypot(x, y, z);
  if (theta < 1e-12) return [1, -z, y, z, 1, -x, -y, x, 1];
  const [kx, ky, kz] = [x / theta, y / theta, z / theta];
  const s = Math.sin(theta);
  const c = 1 - Math.cos(theta);
  return [
    1 + c * (-ky * ky - kz * kz), -s * kz + c * kx * ky, s * ky + c * kx * kz,
    s * kz + c * kx * ky, 1 + c * (-kx * kx - kz * kz), -s * kx + c * ky * kz,
    -s * ky + c * kx * kz, s * kx + c * ky * kz, 1 + c * (-kx * kx - ky * ky),
  ];
}

/** Matrix → rotation vector with angle in [0, π]. */
export function matrixToRotvec(m: Mat3): Vec3 {
  const cos = Math.min(1, Math.max(-1, (m[0] + m[4] + m[8] - 1) / 2));
  const theta = Math.acos(cos);
  const v: Vec3 = [m[7] - m[5], m[2] - m[6], m[3] - m[1]];
  if (theta < 1e-6) return [v[0] / 2, v[1] / 2, v[2] / 2];
  if (theta > 3.0) {
    // Near 180°, sin θ → 0: take the axis from the symmetric part, its sign from v.
    const d = [(m[0] - cos) / (1 - cos), (m[4] - cos) / (1 - cos), (m[8] - cos) / (1 - cos)];
    const i = d.indexOf(Math.max(...d));
    const sym = (r: number, c: number): number => (m[r * 3 + c]! + m[c * 3 + r]!) / 2 / (1 - cos) - (r === c ? cos / (1 - cos) : 0);
    const root = Math.sqrt(Math.max(d[i]!, 1e-12));
    let axis: Vec3 = [sym(i, 0) / root, sym(i, 1) / root, sym(i, 2) / root];
    if (axis[0] * v[0] + axis[1] * v[1] + axis[2] * v[2] < 0) axis = [-axis[0], -axis[1], -axis[2]];
    return [axis[0] * theta, axis[1] * theta, axis[2] * theta];
  }
  const k = theta / (2 * Math.sin(theta));
  return [v[0] * k, v[1] * k, v[2] * k];
}
