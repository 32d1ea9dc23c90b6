// A single image channel as floating point samples in 0..255, row-major.
// Every metric works on planes so the same code serves luma today and RGB later.
export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float64Array;
}

export function planeFromBytes(width: number, height: number, bytes: Uint8Array): Plane {
  if (bytes.length < width * height) {
    throw new Error(`plane needs ${width * height} bytes, got ${bytes.length}`);
  }
  const data = new Float64Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = bytes[i]!;
  return { width, height, data };
}

export function assertSameSize(a: Plane, b: Plane): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`planes differ in size: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
}

/**
 * Halve the size by averaging non-overlapping 2x2 blocks (odd trailing row/column dropped).
 * This is what the MS-SSIM and GMSD reference code does for even sizes:
 * a 2x2 box filter followed by taking every other sample.
 */
export function downsample2x2(p: Plane): Plane {
  const w = Math.floor(p.width / 2);
  const h = Math.floor(p.height / 2);
  const out = new Float64Array(w * h);
  const src = p.data;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * p.width;
    const r1 = r0 + p.width;
    for (let x = 0; x < w; x++) {
      const c = 2 * x;
      out[y * w + x] = (src[r0 + c]! + src[r0 + c + 1]! + src[r1 + c]! + src[r1 + c + 1]!) / 4;
    }
  }
  return { width: w, height: h, data: out };
}
