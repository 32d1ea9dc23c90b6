import { describe, expect, it } from 'vitest';
import { i420ToRgb, rgbToI420 } from '../../../codec/yuv420.ts';

// codec/yuv420.ts against the numbers of BT.601 limited range (what ffmpeg assumes for yuv420p).
describe('RGB <-> I420 (BT.601 limited range)', () => {
  const solid = (rgb: [number, number, number], side = 4): Uint8Array => Uint8Array.from({ length: side * side * 3 }, (_, i) => rgb[i % 3]!);

  it('puts black, white and the primaries where BT.601 limited range has them', () => {
    for (const [rgb, yuv] of [
      [[0, 0, 0], [16, 128, 128]],
      [[255, 255, 255], [235, 128, 128]],
      [[255, 0, 0], [81, 90, 240]],
      [[0, 255, 0], [145, 54, 34]],
      [[0, 0, 255], [41, 240, 110]],
    ] as const) {
      const i420 = rgbToI420(solid([...rgb]), 4, 4);
      expect([i420[0], i420[16], i420[20]], `RGB ${rgb}`).toEqual([...yuv]);
      // And back, within a level of rounding.
      const back = i420ToRgb(i420, 4, 4);
      for (let c = 0; c < 3; c++) expect(Math.abs(back[c]! - rgb[c]!), `RGB ${rgb} channel ${c}`).toBeLessThanOrEqual(2);
    }
  });

  it('lays out the planes as I420 (Y, then U and V at half resolution) and keeps a smooth picture', () => {
    const [w, h] = [8, 6];
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => {
      const p = Math.floor(i / 3);
      return [40 + 10 * (p % w), 60 + 12 * Math.floor(p / w), 200 - 8 * (p % w)][i % 3]!;
    });
    const i420 = rgbToI420(rgb, w, h);
    expect(i420.length).toBe(w * h * 1.5);
    const back = i420ToRgb(i420, w, h);
    let worst = 0;
    for (let i = 0; i < rgb.length; i++) worst = Math.max(worst, Math.abs(back[i]! - rgb[i]!));
    // Chroma is shared by 2x2 pixels: a gradient of 10-12 levels a pixel moves a few levels.
    expect(worst).toBeLessThanOrEqual(12);
  });

  it('refuses odd sizes and wrong lengths with a message', () => {
    expect(() => rgbToI420(new Uint8Array(3 * 3 * 3), 3, 3)).toThrow(/not even/);
    expect(() => rgbToI420(new Uint8Array(10), 4, 4)).toThrow(/expected 48/);
    expect(() => i420ToRgb(new Uint8Array(10), 4, 4)).toThrow(/expected 24/);
  });
});
