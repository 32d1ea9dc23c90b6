import type { OperatingPoint } from './codecs/codec.ts';

/** One codec x operating point x clip: the row shape of report.json (kiloface uses it too). */
export interface ResultRow {
  codec: string;
  clip: string;
  point: OperatingPoint;
  frames: number;
  /** Real rate from the coded output: payload bytes x 8 / duration. */
  kbps: number;
  /** Rate including transport headers (see the codec's wireModel). */
  wireKbps: number;
  payloadBytes: number;
  wireBytes: number;
  packets: number;
  breakdown: Readonly<Record<string, number>> | null;
  /** Luma means over frames. */
  psnr: number;
  ssim: number;
  msssim: number;
  gmsd: number;
  /** Average keypoint distance in px; null until the landmark model exists. */
  akd: number | null;
  encodeMs: number;
  decodeMs: number;
  /** Path of the coded stream, relative to the output folder. */
  stream: string;
  notes: string[];
}

export interface FailedJob {
  codec: string;
  clip: string;
  point: string;
  error: string;
}
