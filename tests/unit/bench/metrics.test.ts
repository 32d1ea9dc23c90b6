import { describe, expect, it } from 'vitest';
import { gmsd } from '../../../bench/metrics/gmsd.ts';
import { msssim } from '../../../bench/metrics/msssim.ts';
import { downsample2x2, planeFromBytes } from '../../../bench/metrics/plane.ts';
import { meanSquaredError, psnr } from '../../../bench/metrics/psnr.ts';
import { PSNR_CAP_DB } from '../../../codec/shipped.ts';
import { ssim } from '../../../bench/metrics/ssim.ts';
import { asPlane, blurredNoisy, shifted, testCard } from './synthetic-images.ts';

// Values printed by reference/metric_reference.py on the same integer-built images:
// scikit-image 0.26 (PSNR, SSIM), numpy transcriptions of Wang's msssim.m and of GMSD.m,
// torchmetrics 1.9 MS-SSIM (loose: it averages the last scale over a reflect-padded image).
const REFERENCE = {
  blurredNoisy: {
    psnr: 27.056941435434897,
    ssim: 0.6071793286330147,
    msssim: 0.9481166020519345,
    msssimTorchmetrics: 0.9480806205194867,
    gmsd: 0.0708929688756984,
    // ffmpeg 5.1 `ssim` filter (8x8 blocks, stride 4, no Gaussian): a different estimator.
    ffmpegSsim: 0.597759,
  },
  shifted10: {
    psnr: 28.130803608679106,
    ssim: 0.9914166455286089,
    msssim: 0.9995923082159446,
    msssimTorchmetrics: 0.9994354738298769,
    gmsd: 0.0020663028287485805,
    ffmpegSsim: 0.99179,
  },
} as const;

const SIZE = 256;
const cardBytes = testCard(SIZE);
const card = asPlane(cardBytes, SIZE);
const distorted = {
  blurredNoisy: asPlane(blurredNoisy(cardBytes, SIZE), SIZE),
  shifted10: asPlane(shifted(cardBytes, 10), SIZE),
};

describe('synthetic images', () => {
  it('are bit-identical to the ones the Python reference measured', () => {
    const sum = (p: { data: Float64Array }): number => p.data.reduce((a, b) => a + b, 0);
    expect(sum(card)).toBe(7468963);
    expect(sum(distorted.blurredNoisy)).toBe(7407084);
  });
});

describe.each(Object.keys(REFERENCE) as (keyof typeof REFERENCE)[])('metrics on %s', (name) => {
  const ref = REFERENCE[name];
  const other = distorted[name];
  it('PSNR matches scikit-image', () => expect(psnr(card, other)).toBeCloseTo(ref.psnr, 9));
  it('SSIM matches scikit-image (Gaussian, valid region)', () => expect(ssim(card, other)).toBeCloseTo(ref.ssim, 9));
  it('SSIM is within 0.012 of ffmpeg\'s block SSIM', () =>
    expect(Math.abs(ssim(card, other) - ref.ffmpegSsim)).toBeLessThan(0.012));
  it('MS-SSIM matches Wang\'s msssim.m', () => expect(msssim(card, other)).toBeCloseTo(ref.msssim, 9));
  it('MS-SSIM is within 2e-4 of torchmetrics', () =>
    expect(Math.abs(msssim(card, other) - ref.msssimTorchmetrics)).toBeLessThan(2e-4));
  it('GMSD matches GMSD.m', () => expect(gmsd(card, other)).toBeCloseTo(ref.gmsd, 9));
});

describe('identical and hand-computed cases', () => {
  it('identical images: SSIM = MS-SSIM = 1, GMSD = 0, PSNR capped', () => {
    expect(ssim(card, card)).toBeCloseTo(1, 12);
    expect(msssim(card, card)).toBeCloseTo(1, 12);
    expect(gmsd(card, card)).toBe(0);
    expect(meanSquaredError(card, card)).toBe(0);
    expect(psnr(card, card)).toBe(PSNR_CAP_DB);
  });

  it('PSNR of a uniform error of 1 is 20 log10(255) = 48.1308 dB', () => {
    const a = planeFromBytes(4, 4, new Uint8Array(16).fill(100));
    const b = planeFromBytes(4, 4, new Uint8Array(16).fill(101));
    expect(psnr(a, b)).toBeCloseTo(20 * Math.log10(255), 10);
  });

  it('SSIM of two flat images depends only on the luminance term', () => {
    // Flat images have zero variance, so cs = C2/C2 = 1 and SSIM = (2 m1 m2 + C1)/(m1^2 + m2^2 + C1).
    const a = planeFromBytes(16, 16, new Uint8Array(256).fill(100));
    const b = planeFromBytes(16, 16, new Uint8Array(256).fill(120));
    const c1 = (0.01 * 255) ** 2;
    expect(ssim(a, b)).toBeCloseTo((2 * 100 * 120 + c1) / (100 * 100 + 120 * 120 + c1), 12);
  });

  it('downsampling averages non-overlapping 2x2 blocks', () => {
    const p = planeFromBytes(4, 2, Uint8Array.from([1, 3, 10, 20, 5, 7, 30, 40]));
    expect(Array.from(downsample2x2(p).data)).toEqual([4, 25]);
  });

  it('GMSD on a 4x4 pair matches a hand computation', () => {
    // a is black; b has one bright 2x2 block (30) in the top-left corner. After 2x2 decimation
    // b is [[30, 0], [0, 0]]. Prewitt/3 with zero padding gives b gradient magnitudes
    // [[0, 10], [10, sqrt(200)]] and a has none, so the similarity map is
    // T/(g^2 + T) = [1, 170/270, 170/270, 170/370], and GMSD is its sample standard deviation.
    const black = planeFromBytes(4, 4, new Uint8Array(16));
    const corner = new Uint8Array(16);
    for (const i of [0, 1, 4, 5]) corner[i] = 30;
    const map = [1, 170 / 270, 170 / 270, 170 / 370];
    const mean = map.reduce((a, b) => a + b) / 4;
    const expected = Math.sqrt(map.reduce((a, q) => a + (q - mean) ** 2, 0) / 3);
    expect(gmsd(black, planeFromBytes(4, 4, corner))).toBeCloseTo(expected, 12);
  });

  it('rejects images too small for five MS-SSIM scales', () => {
    const small = planeFromBytes(64, 64, new Uint8Array(64 * 64));
    expect(() => msssim(small, small)).toThrow(/at least 176/);
  });
});
