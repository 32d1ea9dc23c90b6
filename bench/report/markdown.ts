import { QUALITY_METRICS } from '../metrics/frame-metrics.ts';
import { AKD_LABEL, DECODE_SPEED_NOTE, METRIC_LABELS, akdCell, bdCell, db, decodeCell, formatMetric, hullVertexCell, kbps, lowestPointCell, unit } from './format.ts';
import type { BenchReport } from './schema.ts';

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const codecLabel = (r: BenchReport, id: string): string => r.codecs.find((c) => c.id === id)?.label ?? id;

export function lowestRateTable(r: BenchReport): string {
  return table(
    ['codec', 'lowest point', 'real kbit/s', 'wire kbit/s', 'PSNR-Y', 'SSIM-Y', 'MS-SSIM-Y', 'GMSD-Y', 'AKD px'],
    r.lowestRates.map((l) => [
      codecLabel(r, l.codec), lowestPointCell(l), kbps(l.kbps), kbps(l.wireKbps),
      db(l.psnr), unit(l.ssim), unit(l.msssim), unit(l.gmsd), akdCell(l.akd ?? null),
    ]),
  );
}

export function bdRateTable(r: BenchReport, anchor: string): string {
  const others = r.codecs.map((c) => c.id).filter((id) => id !== anchor);
  return table(
    ['codec', ...QUALITY_METRICS.map((m) => `BD-rate on ${METRIC_LABELS[m]}`), 'clips'],
    others.map((test) => {
      const entries = QUALITY_METRICS.map((m) => r.bdRates.find((b) => b.anchor === anchor && b.test === test && b.metric === m));
      return [codecLabel(r, test), ...entries.map(bdCell), `${entries[0]?.clipsUsed ?? 0}`];
    }),
  );
}

/** Each ladder codec's hull on wire rate: per metric, the operating points that are its vertices, with their quality. */
export function hullTable(r: BenchReport, rate: 'kbps' | 'wireKbps' = 'wireKbps'): string {
  const hulls = (r.hulls ?? []).filter((h) => h.rate === rate);
  return table(
    ['codec', 'metric', 'hull vertices: point (coded size, frame rate, rate) = quality'],
    hulls.map((h) => [
      codecLabel(r, h.codec), METRIC_LABELS[h.metric],
      h.vertices.map((v) => `${hullVertexCell(v, rate)} = ${formatMetric(h.metric, v.value)}`).join('; '),
    ]),
  );
}

/** One test codec (kiloface) against every other codec as the anchor. */
export function testAgainstAllTable(r: BenchReport, test: string, wire = false): string {
  const anchors = r.codecs.map((c) => c.id).filter((id) => id !== test);
  const entries_ = wire ? (r.bdRatesWire ?? []) : r.bdRates;
  return table(
    ['anchor', ...QUALITY_METRICS.map((m) => `BD-rate on ${METRIC_LABELS[m]}`), 'clips'],
    anchors.map((anchor) => {
      const entries = QUALITY_METRICS.map((m) => entries_.find((b) => b.anchor === anchor && b.test === test && b.metric === m));
      return [codecLabel(r, anchor), ...entries.map(bdCell), `${entries[0]?.clipsUsed ?? 0}`];
    }),
  );
}

export function decodeSpeedTable(r: BenchReport): string {
  const threads = [...new Set(r.decodeSpeed.map((d) => d.threads))].sort();
  return table(
    ['codec', 'decoder', ...threads.map((t) => `ms/frame (CPU), ${t} thread${t > 1 ? 's' : ''}`)],
    r.codecs.map((c) => [
      c.label, c.decoder,
      ...threads.map((t) => decodeCell(r.decodeSpeed.find((s) => s.codec === c.id && s.threads === t))),
    ]),
  );
}

function perClipTables(r: BenchReport): string {
  return r.clips
    .map((clip) => {
      const rows = r.rows.filter((row) => row.clip === clip.id);
      return [
        `### ${clip.id}`,
        '',
        `${clip.file} (${clip.person || 'person unknown'}; ${clip.licence || 'licence unknown'}), source ${clip.source.width}x${clip.source.height} at ${clip.source.fps} fps, crop ${clip.crop.size}px at (${clip.crop.x}, ${clip.crop.y}), ${clip.frames} frames.`,
        '',
        table(
          ['codec', 'operating point', 'kbit/s', 'wire kbit/s', ...QUALITY_METRICS.map((m) => METRIC_LABELS[m]), AKD_LABEL],
          rows.map((row) => [
            codecLabel(r, row.codec), row.point.label, kbps(row.kbps), kbps(row.wireKbps),
            ...QUALITY_METRICS.map((m) => formatMetric(m, row[m])), akdCell(row.akd),
          ]),
        ),
      ].join('\n');
    })
    .join('\n\n');
}

export function renderMarkdown(r: BenchReport): string {
  const e = r.environment;
  const parts = [
    '# kiloface bench: standard codecs and kiloface',
    '',
    `Command: \`${r.command}\`  `,
    `Run ${r.createdAt}, ${Math.round(r.durationS)} s on ${e.cpu} (${e.logicalCores} logical cores, ${e.memoryGiB} GiB), ${e.os}, Node ${e.node}, ${e.ffmpeg}.`,
    '',
    `Input: ${r.clips.length} clip(s), each the first ${r.settings.secondsPerClip} s as ${r.settings.size}x${r.settings.size} ${r.settings.fps} fps 8-bit yuv420p. Crop: ${r.settings.crop.rule}. Metrics on ${r.metrics.plane}. Rates are measured from the coded packets (payload); wire adds transport headers (${r.wireModel}).`,
    '',
    '## Lowest achievable bitrate',
    '',
    'Each codec at its lowest operating point (per clip its lowest real rate, averaged over clips). AKD "-": the tracker found no face in any decoded frame.',
    '',
    lowestRateTable(r),
    '',
    `## BD-rate against ${codecLabel(r, r.settings.anchor)}`,
    '',
    'Bjontegaard delta rate, piecewise cubic (PCHIP) interpolation of log-rate over quality, per clip, averaged over clips; negative = fewer bits for the same quality. All pairs and the classic cubic-polynomial variant are in report.json.',
    '',
    r.codecs.some((c) => c.id === r.settings.anchor) ? bdRateTable(r, r.settings.anchor) : `(anchor ${r.settings.anchor} was not run)`,
    '',
    ...(r.codecs.some((c) => c.id === 'kiloface')
      ? [
          '## kiloface against each codec',
          '',
          'BD-rate of kiloface (test) with each codec as the anchor; negative = kiloface needs fewer bits for the same quality; n/a = the curves do not overlap in quality (no extrapolation). On payload rates:',
          '',
          testAgainstAllTable(r, 'kiloface'),
          '',
          'On wire rates (payload + transport headers: RTP model for the standard codecs; kiloface as the call sends it: bundles inside the audio packets, references on the datachannel):',
          '',
          testAgainstAllTable(r, 'kiloface', true),
          '',
        ]
      : []),
    ...((r.hulls ?? []).length
      ? [
          '## Ladder hulls (the adaptive anchor)',
          '',
          'Codecs marked with a ladder are also coded at lower sizes and frame rates (scaled down with `flags=area` and the `fps` filter, decoded, scaled back to 256x256 with `flags=bicubic` and shown at 25 fps, each source frame showing the latest decoded picture); their curve is the upper convex hull over all their points (linear rate axis, per metric), per clip for BD-rates. The hull of the clip-averaged points on wire rate, vertex by vertex:',
          '',
          hullTable(r),
          '',
        ]
      : []),
    '## Decode speed',
    '',
    `${DECODE_SPEED_NOTE} On ${e.cpu}.`,
    '',
    decodeSpeedTable(r),
    '',
    '## Rate-quality points (mean over clips)',
    '',
    ...r.averagedCurves.flatMap((c) => [
      `**${codecLabel(r, c.codec)}**`,
      '',
      table(
        ['point', 'size, fps', 'kbit/s', 'wire kbit/s', ...QUALITY_METRICS.map((m) => METRIC_LABELS[m]), AKD_LABEL],
        c.points.map((p) => [
          p.point, `${p.size ?? r.settings.size} px ${p.fps ?? r.settings.fps}`, kbps(p.kbps), p.wireKbps === undefined ? '-' : kbps(p.wireKbps),
          ...QUALITY_METRICS.map((m) => formatMetric(m, p[m])), akdCell(p.akd ?? null),
        ]),
      ),
      '',
    ]),
    '## Per clip',
    '',
    perClipTables(r),
    '',
    '## Face metric and what is not measured',
    '',
    `- AKD: ${r.metrics.akd}`,
    `- ${r.metrics.notAvailable}`,
    '',
    '## Codec settings',
    '',
    ...r.codecs.map((c) => `- **${c.label}** (\`${c.id}\`, ${c.version}): ${c.settings}. Decoder: ${c.decoder}.`),
    ...r.unavailableCodecs.map((u) => `- \`${u.id}\`: not run (${u.reason})`),
  ];
  if (r.skippedClips.length) {
    parts.push('', '## Skipped clips', '', ...r.skippedClips.map((s) => `- ${s.file}: ${s.reason}`));
  }
  if (r.failures.length) {
    parts.push('', '## Failed jobs', '', ...r.failures.map((f) => `- ${f.codec} ${f.point} ${f.clip}: ${f.error}`));
  }
  return `${parts.join('\n')}\n`;
}
