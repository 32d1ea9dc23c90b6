// Number formats shared by the Markdown and HTML reports, so both say the same thing.
export const kbps = (v: number): string => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
export const db = (v: number): string => v.toFixed(2);
export const unit = (v: number): string => v.toFixed(4);
export const ms = (v: number): string => (v < 1 ? v.toFixed(3) : v.toFixed(2));
export const percent = (v: number | null): string => (v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`);

export const METRIC_LABELS = {
  psnr: 'PSNR-Y (dB)',
  ssim: 'SSIM-Y',
  msssim: 'MS-SSIM-Y',
  gmsd: 'GMSD-Y (lower is better)',
} as const;

export const akdCell = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
export const AKD_LABEL = 'AKD px (lower is better)';

export const formatMetric = (metric: keyof typeof METRIC_LABELS, v: number): string => (metric === 'psnr' ? db(v) : unit(v));

/** Decode cell: elapsed ms per frame, CPU ms per frame in brackets. */
export const decodeCell = (d: { msPerFrame: number; cpuMsPerFrame: number } | undefined): string =>
  d ? `${ms(d.msPerFrame)} (${ms(d.cpuMsPerFrame)})` : '-';

export const DECODE_SPEED_NOTE =
  'Standard codecs: ffmpeg decode of the middle operating point per clip, timed by ffmpeg -benchmark (no process start-up) over at least 1000 frames (the stream looped), best of 3, median over clips. kiloface: frame.onnx (the per-frame network) on onnxruntime-node, mean over up to 50 frames of the middle point\'s stream after 3 warm-up frames, median over clips; reference.onnx (once per reference) and the image decode are not in it. Cells: elapsed ms per frame (CPU ms per frame, user + system, which a busy machine does not inflate).';

/** A BD-rate cell; when no clip gave one, says why (e.g. the curves do not overlap) instead of a bare n/a. */
export const bdCell = (e: { meanPercent: number | null; perClip: readonly { reason?: string }[] } | undefined): string => {
  if (!e) return 'n/a';
  if (e.meanPercent !== null) return percent(e.meanPercent);
  const reasons = [...new Set(e.perClip.flatMap((c) => (c.reason ? [c.reason] : [])))];
  return reasons.length ? `n/a: ${reasons.join('; ')}` : 'n/a';
};

/** A ladder hull vertex: which operating point (size, frame rate, target) it is. */
export const hullVertexCell = (v: { point: string; size: number; fps: number; kbps: number; wireKbps: number }, rate: 'kbps' | 'wireKbps'): string =>
  `${v.point} (${v.size} px ${v.fps} fps, ${kbps(v[rate])} kbit/s)`;

/** Which operating point a codec's lowest rate comes from (a ladder rung, a target, or kiloface's point). */
export const lowestPointCell = (l: { points?: readonly string[]; lowestTarget: number | null }): string =>
  l.points?.length ? l.points.join(', ') : l.lowestTarget === null ? '-' : String(l.lowestTarget);
