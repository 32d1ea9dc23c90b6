import { describe, expect, it } from 'vitest';

import { sampleAffine, type AffineMap } from '../../../codec/tracker/affine-sampler.ts';
import { projectLandmarks } from '../../../codec/tracker/face-landmarker.ts';
import { letterboxRoi } from '../../../codec/tracker/face-detector.ts';
import type { ImageLike } from '../../../codec/tracker/image.ts';
import { normalizeAngle, roiCentreInFrame, roiCropMap, roiFromDetection, roiFromLandmarks, roiFromPoints, roiToImage } from '../../../codec/tracker/roi.ts';

const IDENTITY: AffineMap = { a: 1, b: 0, c: 0, d: 0, e: 1, f: 0 };
const RAW = { border: 'replicate', scale: 1, offset: 0, round: false } as const;

/** 4x3 RGBA image whose R = 10 * x + y, G = 100 + x, B = 200 - y, A = 7. */
function image(): ImageLike {
  const width = 4;
  const height = 3;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([10 * x + y, 100 + x, 200 - y, 7], 4 * (y * width + x));
  return { data, width, height, channels: 4 };
}

const at = (t: Float32Array, w: number, x: number, y: number) => Array.from(t.subarray(3 * (y * w + x), 3 * (y * w + x) + 3));

describe('affine bilinear sampler', () => {
  it('the identity map copies RGB (alpha dropped), RGB and RGBA inputs alike', () => {
    const img = image();
    const out = sampleAffine(img, IDENTITY, 4, 3, RAW);
    expect(at(out, 4, 2, 1)).toEqual([21, 102, 199]);
    const rgb: ImageLike = { data: Uint8Array.from(Array.from(img.data).filter((_, i) => i % 4 !== 3)), width: 4, height: 3, channels: 3 };
    expect(Array.from(sampleAffine(rgb, IDENTITY, 4, 3, RAW))).toEqual(Array.from(out));
  });

  it('interpolates bilinearly between pixel centres and normalises', () => {
    const img = image();
    // output (0, 0) reads source (1.25, 0.5): R = 10 * 1.25 + 0.5 = 13
    const out = sampleAffine(img, { ...IDENTITY, c: 1.25, f: 0.5 }, 1, 1, RAW);
    expect(at(out, 1, 0, 0)).toEqual([13, 101.25, 199.5]);
    const norm = sampleAffine(img, { ...IDENTITY, c: 1.25, f: 0.5 }, 1, 1, { border: 'replicate', scale: 1 / 127.5, offset: -1, round: true });
    // rounded half to even (as OpenCV): 13 -> 13, 101.25 -> 101, 199.5 -> 200
    expect(Array.from(norm)).toEqual([13, 101, 200].map((v) => Math.fround(v / 127.5 - 1)));
  });

  it('outside the image: black for constant border, edge pixels for replicate', () => {
    const img = image();
    const left = { ...IDENTITY, c: -0.5 }; // output (0, 0) reads x = -0.5: half edge, half outside
    expect(at(sampleAffine(img, left, 1, 1, { ...RAW, border: 'constant' }), 1, 0, 0)).toEqual([0, 50, 100]);
    expect(at(sampleAffine(img, left, 1, 1, RAW), 1, 0, 0)).toEqual([0, 100, 200]);
    const far = { ...IDENTITY, c: -100, f: 50 };
    expect(at(sampleAffine(img, far, 1, 1, { ...RAW, border: 'constant' }), 1, 0, 0)).toEqual([0, 0, 0]);
    expect(at(sampleAffine(img, far, 1, 1, RAW), 1, 0, 0)).toEqual([2, 100, 198]); // bottom-left pixel
  });

  it('rotates: a 90-degree map reads columns as rows', () => {
    const img = image();
    // output (x, y) reads source (y, 2 - x): a 3x4 output
    const out = sampleAffine(img, { a: 0, b: 1, c: 0, d: -1, e: 0, f: 2 }, 3, 4, RAW);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 3; x++) expect(at(out, 3, x, y)[0]).toBe(10 * y + (2 - x));
  });

  it('refuses an output buffer of the wrong size', () => {
    expect(() => sampleAffine(image(), IDENTITY, 2, 2, RAW, new Float32Array(5))).toThrow(RangeError);
  });
});

describe('ROI rules', () => {
  it('from two points and a box: centre, 1.5 x the long side, rotation that levels p0 -> p1', () => {
    const roi = roiFromPoints(10, 20, 50, 40, 0, 0, 5, 0);
    expect(roi).toEqual({ cx: 30, cy: 30, size: 60, angle: 0 });
    expect(roiFromPoints(10, 20, 50, 40, 0, 0, 0, 5).angle).toBeCloseTo(Math.PI / 2, 12); // eye line pointing down
    expect(roiFromPoints(10, 20, 50, 40, 5, 5, 0, 5).angle).toBeCloseTo(-Math.PI, 12); // upside-down face: wraps to -pi
    expect(normalizeAngle((3 * Math.PI) / 2)).toBeCloseTo(-Math.PI / 2, 12);
  });

  it('from a detection uses keypoints 0 -> 1 (the eyes)', () => {
    const roi = roiFromDetection({ xMin: 0, yMin: 0, xMax: 20, yMax: 10, score: 1, keypoints: Float64Array.from([5, 5, 15, 15, 99, 0]) });
    expect(roi.angle).toBeCloseTo(Math.PI / 4, 12);
    expect(roi.size).toBe(30);
  });

  it('from landmarks uses the bounding box of all 468 and points 33 -> 263', () => {
    const lm = new Float32Array(468 * 3);
    for (let i = 0; i < 468; i++) lm.set([100 + (i % 40), 50 + (i % 30), 0], 3 * i);
    lm.set([90, 70, 0], 3 * 33);
    lm.set([150, 60, 0], 3 * 263); // x range 90..150, y range 50..79
    const roi = roiFromLandmarks(lm);
    expect(roi.cx).toBeCloseTo(120, 5);
    expect(roi.cy).toBeCloseTo(64.5, 5);
    expect(roi.size).toBeCloseTo(90, 5);
    expect(roi.angle).toBeCloseTo(Math.atan2(-10, 60), 6);
  });

  it('crop corners map to ROI corners, and landmarks project back through the same map', () => {
    const roi = { cx: 100, cy: 80, size: 64, angle: 0.4 };
    const map = roiCropMap(roi, 192);
    const apply = (x: number, y: number) => [map.a * x + map.b * y + map.c, map.d * x + map.e * y + map.f];
    for (const [u, v] of [[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5]] as const) {
      const [x, y] = apply(192 * u, 192 * v);
      const [ex, ey] = roiToImage(roi, u, v);
      expect(x).toBeCloseTo(ex, 9);
      expect(y).toBeCloseTo(ey, 9);
    }
    const raw = new Float32Array(468 * 3).map((_, i) => (i * 37) % 192);
    const img = projectLandmarks(raw, roi);
    for (const i of [0, 1, 200, 467]) {
      const [x, y] = apply(raw[3 * i]!, raw[3 * i + 1]!);
      expect(img[3 * i]).toBeCloseTo(x!, 3);
      expect(img[3 * i + 1]).toBeCloseTo(y!, 3);
      expect(img[3 * i + 2]).toBeCloseTo((raw[3 * i + 2]! * 64) / 192, 4);
    }
  });

  it("sampling grids: 'centre' puts crop pixel centres on image pixel centres, 'corner' half a crop pixel up-left", () => {
    const img = image(); // 4 x 3
    // A square ROI whose edges are the image's pixel edges (pixel centres at integers): x in [-0.5, 3.5].
    const roi = { cx: 1.5, cy: 1.5, size: 4, angle: 0 };
    const centre = sampleAffine(img, roiCropMap(roi, 4, 'centre'), 4, 4, RAW);
    expect(at(centre, 4, 2, 1)).toEqual([21, 102, 199]); // an exact copy
    const corner = sampleAffine(img, roiCropMap(roi, 4, 'corner'), 4, 4, RAW);
    expect(at(corner, 4, 2, 1)).toEqual([15.5, 101.5, 199.5]); // reads (1.5, 0.5)
    const map = roiCropMap({ cx: 100, cy: 80, size: 96, angle: 0.3 }, 192, 'centre');
    const base = roiCropMap({ cx: 100, cy: 80, size: 96, angle: 0.3 }, 192);
    // half a crop pixel (0.25 image px here) along the ROI's own axes
    expect(map.c - base.c).toBeCloseTo(0.25 * (Math.cos(0.3) - Math.sin(0.3)), 12);
    expect(map.f - base.f).toBeCloseTo(0.25 * (Math.sin(0.3) + Math.cos(0.3)), 12);
  });

  it('letterbox: the whole frame centred in a square of side max(W, H)', () => {
    expect(letterboxRoi(640, 480)).toEqual({ cx: 320, cy: 240, size: 640, angle: 0 });
    const map = roiCropMap(letterboxRoi(640, 480), 128);
    expect([map.c, map.f, map.a]).toEqual([0, -80, 5]); // 80 px of black above and below
  });

  it('centre-in-frame check', () => {
    expect(roiCentreInFrame({ cx: 10, cy: 10, size: 5, angle: 0 }, 20, 20)).toBe(true);
    expect(roiCentreInFrame({ cx: -1, cy: 10, size: 50, angle: 0 }, 20, 20)).toBe(false);
    expect(roiCentreInFrame({ cx: 10, cy: 20, size: 50, angle: 0 }, 20, 20)).toBe(false);
  });
});
