import { QUALITY_METRICS } from '../metrics/frame-metrics.ts';
import { AKD_LABEL, DECODE_SPEED_NOTE, METRIC_LABELS, akdCell, bdCell, db, decodeCell, formatMetric, hullVertexCell, kbps, lowestPointCell, percent, unit } from './format.ts';
import type { SampleSet } from './sample-frames.ts';
import type { BenchReport } from './schema.ts';
import { escapeXml as esc, rdPlotSvg } from './svg-plot.ts';

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
.samples { display: flex; flex-wrap: wrap; gap: 10px; }
figure { margin: 0; width: 256px; font-size: 12px; }
figure img { width: 256px; height: 256px; image-rendering: pixelated; display: block; }
code { background: #f4f4f4; padding: 1px 4px; }
.note { color: #555; font-size: 13px; }
details pre { white-space: pre-wrap; font-size: 12px; background: #f8f8f8; padding: 6px; }
`;

export function renderHtml(r: BenchReport, samples: readonly SampleSet[]): string {
  const label = (id: string): string => r.codecs.find((c) => c.id === id)?.label ?? id;
  const e = r.environment;
  // Ladder codecs are drawn as their hull (vertices named in the tooltips), the others point by point.
  const plotsOn = (rate: 'kbps' | 'wireKbps'): string[] =>
    QUALITY_METRICS.map((m) =>
      rdPlotSvg(
        r.averagedCurves.map((c) => {
          const hull = (r.hulls ?? []).find((h) => h.codec === c.codec && h.metric === m && h.rate === rate);
          const points = hull
            ? hull.vertices.map((v) => ({ x: v[rate], y: v.value, label: `${hullVertexCell(v, rate)}, ${formatMetric(m, v.value)}` }))
            : c.points.map((p) => ({ x: p[rate] ?? p.kbps, y: p[m], label: `${p.point}: ${kbps(p[rate] ?? p.kbps)} kbit/s, ${formatMetric(m, p[m])}` }));
          return { name: hull ? `${label(c.codec)} (ladder hull)` : label(c.codec), points };
        }),
        {
          title: `${METRIC_LABELS[m]} vs ${rate === 'kbps' ? 'payload' : 'wire'} rate, mean over ${r.clips.length} clip(s)`,
          xLabel: `${rate === 'kbps' ? 'payload' : 'wire'} kbit/s (log scale)`,
          yLabel: METRIC_LABELS[m],
        },
      ),
    );
  const plots = [...plotsOn('kbps'), ...plotsOn('wireKbps')];
  const hullRows = (r.hulls ?? []).filter((h) => h.rate === 'wireKbps');
  const hullTable = table(
    ['codec', 'metric', 'hull vertices on wire rate: point (coded size, frame rate, rate) = quality'],
    hullRows.map((h) => [label(h.codec), METRIC_LABELS[h.metric], h.vertices.map((v) => `${hullVertexCell(v, 'wireKbps')} = ${formatMetric(h.metric, v.value)}`).join('; ')]),
  );
  const anchorRan = r.codecs.some((c) => c.id === r.settings.anchor);
  const others = r.codecs.filter((c) => c.id !== r.settings.anchor);
  const bd = table(
    ['codec', ...QUALITY_METRICS.map((m) => METRIC_LABELS[m]), 'clips'],
    others.map((c) => {
      const es = QUALITY_METRICS.map((m) => r.bdRates.find((b) => b.anchor === r.settings.anchor && b.test === c.id && b.metric === m));
      return [c.label, ...es.map((x) => percent(x?.meanPercent ?? null)), String(es[0]?.clipsUsed ?? 0)];
    }),
  );
  const kilofaceTable = (entries: BenchReport['bdRates']): string =>
    table(
      ['anchor', ...QUALITY_METRICS.map((m) => METRIC_LABELS[m]), 'clips'],
      r.codecs.filter((c) => c.id !== 'kiloface').map((a) => {
        const es = QUALITY_METRICS.map((m) => entries.find((b) => b.anchor === a.id && b.test === 'kiloface' && b.metric === m));
        return [a.label, ...es.map(bdCell), String(es[0]?.clipsUsed ?? 0)];
      }),
    );
  const kilofaceBd = `${kilofaceTable(r.bdRates)}<p class="note">The same on wire rates (RTP model for the standard codecs; kiloface as the call sends it: bundles inside the audio packets, references on the datachannel):</p>${kilofaceTable(r.bdRatesWire ?? [])}`;
  const ssimMatrix = table(
    ['test \\ anchor', ...r.codecs.map((c) => c.label)],
    r.codecs.map((t) => [
      t.label,
      ...r.codecs.map((a) => (a.id === t.id ? '-' : percent(r.bdRates.find((b) => b.anchor === a.id && b.test === t.id && b.metric === 'ssim')?.meanPercent ?? null))),
    ]),
  );
  const threads = [...new Set(r.decodeSpeed.map((d) => d.threads))].sort();
  const decode = table(
    ['codec', 'decoder', ...threads.map((t) => `ms/frame (CPU), ${t} thread(s)`)],
    r.codecs.map((c) => [c.label, c.decoder, ...threads.map((t) => decodeCell(r.decodeSpeed.find((s) => s.codec === c.id && s.threads === t)))]),
  );
  const lowest = table(
    ['codec', 'lowest point', 'real kbit/s', 'wire kbit/s', 'PSNR-Y', 'SSIM-Y', 'MS-SSIM-Y', 'GMSD-Y', 'AKD px'],
    r.lowestRates.map((l) => [label(l.codec), lowestPointCell(l), kbps(l.kbps), kbps(l.wireKbps), db(l.psnr), unit(l.ssim), unit(l.msssim), unit(l.gmsd), akdCell(l.akd ?? null)]),
  );
  const perClip = r.clips
    .map((clip) => {
      const rows = r.rows.filter((row) => row.clip === clip.id);
      return `<h3>${esc(clip.id)}</h3>
<p class="note">${esc(clip.file)}: ${esc(clip.person || 'person unknown')}; licence ${esc(clip.licence || 'unknown')}; source ${clip.source.width}x${clip.source.height} at ${clip.source.fps} fps; crop ${clip.crop.size}px at (${clip.crop.x}, ${clip.crop.y}); ${clip.frames} frames.</p>
${table(['codec', 'operating point', 'kbit/s', 'wire kbit/s', ...QUALITY_METRICS.map((m) => METRIC_LABELS[m]), AKD_LABEL, 'encode s'],
  rows.map((row) => [label(row.codec), row.point.label, kbps(row.kbps), kbps(row.wireKbps), ...QUALITY_METRICS.map((m) => formatMetric(m, row[m])), akdCell(row.akd), (row.encodeMs / 1000).toFixed(2)]))}`;
    })
    .join('\n');
  const sampleHtml = samples
    .map(
      (s) => `<h3>${esc(s.title)}</h3><div class="samples">${s.images
        .map((i) => `<figure><img alt="${esc(i.caption)}" src="${i.dataUri}"><figcaption>${esc(i.caption)}</figcaption></figure>`)
        .join('')}</div>`,
    )
    .join('\n');
  const settings = r.codecs
    .map((c) => `<li><b>${esc(c.label)}</b> (<code>${esc(c.id)}</code>, ${esc(c.version)}): ${esc(c.settings)}. Decoder: ${esc(c.decoder)}.
<details><summary>commands</summary><pre>${esc(c.exampleCommands.join('\n'))}</pre></details></li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiloface bench: standard codecs and kiloface</title><style>${STYLE}</style></head>
<body>
<h1>kiloface bench: standard codecs and kiloface</h1>
<p>Command: <code>${esc(r.command)}</code><br>Run ${esc(r.createdAt)}, ${Math.round(r.durationS)} s.
Machine: ${esc(e.cpu)}, ${e.logicalCores} logical cores, ${e.memoryGiB} GiB; ${esc(e.os)}; Node ${esc(e.node)}; ${esc(e.ffmpeg)}.</p>
<p>Input: ${r.clips.length} clip(s), first ${r.settings.secondsPerClip} s each, ${r.settings.size}x${r.settings.size} ${r.settings.fps} fps 8-bit yuv420p, the same file for every codec.
Crop rule (<code>${esc(r.settings.crop.provider)}</code>): ${esc(r.settings.crop.rule)}.
Metrics on ${esc(r.metrics.plane)}. Rates are measured from the coded packets; wire adds transport headers (${esc(r.wireModel)}).</p>
<p class="note">AKD: ${esc(r.metrics.akd)}. Not measured: ${esc(r.metrics.notAvailable)}</p>

<h2>Lowest achievable bitrate</h2>
<p class="note">Per clip the codec's lowest real rate in the sweep, averaged over clips. AKD "-": the tracker found no face in any decoded frame.</p>
${lowest}

<h2>Rate-quality curves</h2>
<div class="plots">${plots.join('\n')}</div>
${hullRows.length ? `<h2>Ladder hulls (the adaptive anchor)</h2>
<p class="note">Codecs with a ladder are also coded at lower sizes and frame rates (scale flags=area and the fps filter; decoded, scaled back to 256x256 with flags=bicubic, shown at 25 fps with each source frame showing the latest decoded picture). Their curve is the upper convex hull over all their points (linear rate axis, per metric; per clip for BD-rates). Vertices of the hull of the clip-averaged points:</p>
${hullTable}` : ''}

<h2>BD-rate</h2>
${anchorRan ? `<p class="note">Against ${esc(label(r.settings.anchor))}: PCHIP Bjontegaard delta rate per clip, averaged over clips where the curves overlap in quality; negative = fewer bits for the same quality.</p>${bd}` : `<p>Anchor ${esc(r.settings.anchor)} was not run.</p>`}
${r.codecs.some((c) => c.id === 'kiloface') ? `<p class="note">kiloface (test) against each codec as the anchor:</p>${kilofaceBd}` : ''}
<p class="note">All pairs on SSIM-Y (row = test codec, column = anchor):</p>
${ssimMatrix}

<h2>Decode speed</h2>
<p class="note">${esc(DECODE_SPEED_NOTE)} On ${esc(e.cpu)}.</p>
${decode}

<h2>Sample frames</h2>
${sampleHtml || '<p>No sample frames.</p>'}

<h2>Per clip</h2>
${perClip}

<h2>Codec settings</h2>
<ul>${settings}${r.unavailableCodecs.map((u) => `<li><code>${esc(u.id)}</code>: not run (${esc(u.reason)})</li>`).join('')}</ul>
${r.skippedClips.length ? `<h2>Skipped clips</h2><ul>${r.skippedClips.map((s) => `<li>${esc(s.file)}: ${esc(s.reason)}</li>`).join('')}</ul>` : ''}
${r.failures.length ? `<h2>Failed jobs</h2><ul>${r.failures.map((f) => `<li>${esc(`${f.codec} ${f.point} ${f.clip}: ${f.error}`)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
