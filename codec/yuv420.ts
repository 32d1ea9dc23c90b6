// 8-bit RGB <-> planar yuv420p (I420), BT.601 limited range: what ffmpeg's swscale assumes for
// untagged yuv420p, so what the guide layer's training pictures went through
// (models/train/data/guides.py: -pix_fmt yuv420p in, rgb24 out). The browser's guide codec
// converts with these itself instead of leaving it to WebCodecs, whose RGB paths pick their own
// matrix and range.

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Packed RGB (width x height x 3) to I420 (Y, then U, then V planes, tight); width and height even. */
export function rgbToI420(rgb: ArrayLike<number>, width: number, height: number, out = new Uint8Array((width * height * 3) / 2)): Uint8Array {
  if (width % 2 || height % 2) throw new Error(`rgbToI420: ${width}x${height} is not even on both sides`);
  if (rgb.length !== width * height * 3) throw new Error(`rgbToI420: ${rgb.length} bytes for ${width}x${height} RGB (expected ${width * height * 3})`);
  const ySize = width * height;
  const cw = width / 2;
  const cSize = cw * (height / 2);
  for (let i = 0; i < ySize; i++) {
    out[i] = clamp8(16 + 0.256788 * rgb[3 * i]! + 0.504129 * rgb[3 * i + 1]! + 0.097906 * rgb[3 * i + 2]!);
  }
  // Chroma of the 2x2 block's mean colour (centre siting).
  for (let cy = 0; cy < height / 2; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const p = ((2 * cy + dy) * width + 2 * cx + dx) * 3;
        r += rgb[p]!;
        g += rgb[p + 1]!;
        b += rgb[p + 2]!;
      }
      r /= 4;
      g /= 4;
      b /= 4;
      out[ySize + cy * cw + cx] = clamp8(128 - 0.148223 * r - 0.290993 * g + 0.439216 * b);
      out[ySize + cSize + cy * cw + cx] = clamp8(128 + 0.439216 * r - 0.367788 * g - 0.071427 * b);
    }
  }
  return out;
}

/** I420 (tight planes) to packed RGB, each pixel taking its 2x2 block's chroma. */
export function i420ToRgb(frame: Uint8Array, width: number, height: number): Uint8Array {
  const cw = width >> 1;
  const ySize = width * height;
  const cSize = cw * (height >> 1);
  if (frame.length < ySize + 2 * cSize) throw new Error(`i420ToRgb: ${frame.length} bytes for ${width}x${height} I420 (expected ${ySize + 2 * cSize})`);
  const rgb = new Uint8Array(ySize * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = (y >> 1) * cw + (x >> 1);
      const Y = 1.164383 * (frame[y * width + x]! - 16);
      const U = frame[ySize + c]! - 128;
      const V = frame[ySize + cSize + c]! - 128;
      const o = (y * width + x) * 3;
      rgb[o] = clamp8(Y + 1.596027 * V);
      rgb[o + 1] = clamp8(Y - 0.391762 * U - 0.812968 * V);
      rgb[o + 2] = clamp8(Y + 2.017232 * U);
    }
  }
  return rgb;
}
