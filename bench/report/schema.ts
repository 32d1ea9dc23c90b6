import type { SkippedClip } from '../clip-selection.ts';
import type { DecodeSpeedRow } from '../decode-speed.ts';
import type { QualityMetric } from '../metrics/frame-metrics.ts';
import type { FailedJob, ResultRow } from '../results.ts';
import type { EnvironmentInfo } from './environment.ts';

// report.json, version 1. docs/bench.md describes every field; change both together.
export const REPORT_SCHEMA = 'kiloface-bench-report/1';

export interface CodecInfo {
  id: string;
  label: string;
  version: string;
  settings: string;
  decoder: string;
  /** Its curve: the upper convex hull over its ladder of sizes and frame rates, or its plain sweep (Pareto front). */
  curve: 'ladder-hull' | 'pareto';
  /** Command lines of one encode (the first job), to show exactly what ran. */
  exampleCommands: string[];
}

export interface ClipInfo {
  id: string;
  file: string;
  person: string;
  licence: string;
  source: { width: number; height: number; fps: number; frames: number };
  crop: { x: number; y: number; size: number };
  frames: number;
}

export interface BdRateEntry {
  metric: QualityMetric;
  anchor: string;
  test: string;
  /** Mean over clips where both curves overlap; null when none do. */
  meanPercent: number | null;
  /** Same with the classic cubic-polynomial fit (needs 4+ points per curve). */
  meanPercentCubicPolynomial: number | null;
  clipsUsed: number;
  perClip: { clip: string; percent: number | null; reason?: string }[];
}

export interface LowestRate {
  codec: string;
  /** Means over clips of each clip's lowest-rate operating point. */
  kbps: number;
  wireKbps: number;
  psnr: number;
  ssim: number;
  msssim: number;
  gmsd: number;
  /** Mean AKD over the clips that have one (px); null without a landmark model. */
  akd: number | null;
  lowestTarget: number | null;
  /** The operating point(s) behind it (per clip; one id when every clip's lowest is the same point). */
  points: string[];
}

export interface AveragedPoint {
  point: string;
  targetKbps: number | null;
  /** Coded picture size (px, square) and frame rate: 256 and 25 except on ladder rungs. */
  size: number;
  fps: number;
  kbps: number;
  wireKbps: number;
  psnr: number;
  ssim: number;
  msssim: number;
  gmsd: number;
  /** Mean AKD over clips (px); null when any clip lacks it. */
  akd: number | null;
}

/** A ladder codec's upper convex hull over its clip-averaged points for one metric and rate axis. */
export interface HullCurve {
  codec: string;
  metric: QualityMetric;
  rate: 'kbps' | 'wireKbps';
  vertices: { point: string; size: number; fps: number; kbps: number; wireKbps: number; value: number }[];
}

export interface BenchReport {
  schema: typeof REPORT_SCHEMA;
  createdAt: string;
  command: string;
  durationS: number;
  settings: {
    quick: boolean;
    size: number;
    fps: number;
    secondsPerClip: number;
    targetsKbps: number[];
    jobs: number;
    threads: number;
    crop: { provider: string; rule: string };
    anchor: string;
  };
  environment: EnvironmentInfo;
  metrics: {
    plane: string;
    definitions: Record<QualityMetric, string>;
    akd: string;
    notAvailable: string;
  };
  codecs: CodecInfo[];
  unavailableCodecs: { id: string; reason: string }[];
  clips: ClipInfo[];
  skippedClips: SkippedClip[];
  rows: ResultRow[];
  failures: FailedJob[];
  averagedCurves: { codec: string; points: AveragedPoint[] }[];
  /** Ladder codecs' hulls over their averaged points (their BD-rates use the per-clip hulls). */
  hulls: HullCurve[];
  lowestRates: LowestRate[];
  bdRates: BdRateEntry[];
  /** The same on wire rates (payload + transport headers of each codec's wire model). */
  bdRatesWire: BdRateEntry[];
  decodeSpeed: DecodeSpeedRow[];
  wireModel: string;
}
