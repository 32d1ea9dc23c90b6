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

export const formatMetric = (metric: keyof typeof METRIC_LABELS, v: number): string => (metric === 'psnr' ? db(v) : unit(v));
