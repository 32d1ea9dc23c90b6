// Rate-quality plots as hand-written SVG (no chart library): log-scaled rate axis, one
// polyline with markers per series, a legend, and <title> tooltips on every point.

export interface PlotSeries {
  name: string;
  points: { x: number; y: number; label?: string }[];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

// Colour-blind-safe palette (Okabe-Ito), then a few extras.
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#F0E442', '#999999', '#882255'];

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Round numbers for a linear axis: about `count` ticks at 1/2/5 x 10^k steps. */
export function linearTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** 1-2-5 ticks for a log axis. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
    }
  }
  return ticks;
}

const fmtTick = (v: number): string => (Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v * 1000) / 1000) : v.toPrecision(3));

export function rdPlotSvg(series: readonly PlotSeries[], o: PlotOptions): string {
  const width = o.width ?? 560;
  const height = o.height ?? 380;
  const m = { left: 64, right: 150, top: 30, bottom: 48 };
  const all = series.flatMap((s) => s.points).filter((p) => p.x > 0 && Number.isFinite(p.y));
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="40"><text x="8" y="24">${escapeXml(o.title)}: no data</text></svg>`;
  const xLo = Math.min(...all.map((p) => p.x)) / 1.15;
  const xHi = Math.max(...all.map((p) => p.x)) * 1.15;
  let yLo = Math.min(...all.map((p) => p.y));
  let yHi = Math.max(...all.map((p) => p.y));
  const pad = (yHi - yLo || Math.abs(yHi) || 1) * 0.06;
  yLo -= pad;
  yHi += pad;
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const sx = (x: number): number => m.left + ((Math.log(x) - Math.log(xLo)) / (Math.log(xHi) - Math.log(xLo))) * pw;
  const sy = (y: number): number => m.top + (1 - (y - yLo) / (yHi - yLo)) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="${m.left + pw / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
  ];
  for (const t of logTicks(xLo, xHi)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${m.top + ph + 14}" text-anchor="middle">${fmtTick(t)}</text>`);
  }
  for (const t of linearTicks(yLo, yHi)) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmtTick(t)}</text>`);
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const pts = s.points.filter((p) => p.x > 0 && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.8" points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of pts) {
      parts.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${colour}"><title>${escapeXml(`${s.name}: ${p.label ?? `${p.x.toFixed(1)}, ${p.y.toFixed(4)}`}`)}</title></circle>`,
      );
    }
    const ly = m.top + 8 + i * 16;
    parts.push(`<line x1="${m.left + pw + 10}" x2="${m.left + pw + 28}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${m.left + pw + 32}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
