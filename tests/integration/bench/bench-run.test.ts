import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { itNeeds } from '../../helpers/needs.ts';
import { FULL_LADDER, QUICK_LADDER } from '../../../bench/codecs/ladder.ts';
import { parseBenchArgs } from '../../../bench/options.ts';
import { runBench } from '../../../bench/run-bench.ts';
import { REPORT_SCHEMA, type BenchReport } from '../../../bench/report/schema.ts';
import { hasFfmpeg } from './synthetic-face-clip.ts';

// A whole bench run on a synthetic clip folder that the test makes itself: ffmpeg's testsrc2
// pattern (moving, coloured, with sharp edges) stands in for a face. Needs Debian's ffmpeg.
const title = hasFfmpeg
  ? 'bench run on a synthetic clip writes report.json, report.md and report.html'
  : 'bench run on a synthetic clip (SKIPPED: ffmpeg is not installed; apt-get install ffmpeg)';

async function syntheticDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kf-bench-data-'));
  await mkdir(join(dir, 'clips'));
  const made = spawnSync('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x320:r=25:d=2',
    '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', join(dir, 'clips', 'synthetic__testsrc2.y4m'),
  ]);
  if (made.status !== 0) throw new Error(`ffmpeg could not make the synthetic clip: ${made.stderr}`);
  await writeFile(
    join(dir, 'MANIFEST.tsv'),
    [
      'file\tkind\twidth\theight\tfps\tframes\tduration_s\tsha256\tperson\trepo_license',
      'synthetic__testsrc2.y4m\ttalking-head\t320\t320\t25\t50\t2\t\tT01 test pattern\tnone',
      'synthetic__not_a_face.y4m\tstandard-sequence\t320\t320\t25\t50\t2\t\tS01\tnone',
    ].join('\n'),
  );
  return dir;
}

describe('bench end to end', () => {
  itNeeds(hasFfmpeg ? null : 'ffmpeg is not installed')(title, { timeout: 60_000 }, async () => {
    const data = await syntheticDataDir();
    const out = await mkdtemp(join(tmpdir(), 'kf-bench-out-'));
    const cache = await mkdtemp(join(tmpdir(), 'kf-bench-cache-'));
    try {
      await checkRun(data, out, cache);
    } finally {
      for (const dir of [data, out, cache]) await rm(dir, { recursive: true, force: true });
    }
  });
});

async function checkRun(data: string, out: string, cache: string): Promise<void> {
  // The test pattern has no face: the square frame is used whole (source-framing).
  const args = ['--data', data, '--out', out, '--cache', cache, '--codecs', 'x264-realtime,vp8', '--kbps', '30,120', '--seconds', '1', '--crop', 'source-framing', '--no-ladder'];
  const parsed = parseBenchArgs(args);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  await runBench(parsed.options, `bench ${args.join(' ')}`);

  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as BenchReport;
  expect(report.schema).toBe(REPORT_SCHEMA);
  expect(report.clips).toHaveLength(1);
  expect(report.clips[0]!.frames).toBe(25);
  expect(report.rows).toHaveLength(4);
  expect(report.failures).toEqual([]);
  for (const row of report.rows) {
    expect(row.kbps).toBeGreaterThan(0);
    expect(row.wireKbps).toBeGreaterThan(row.kbps);
    expect(row.ssim).toBeGreaterThan(0.3);
    expect(row.ssim).toBeLessThanOrEqual(1);
    expect(row.psnr).toBeGreaterThan(15);
    expect(row.akd).toBeNull();
  }
  // More bits buy more quality for each codec.
  for (const codec of ['x264-realtime', 'vp8']) {
    const [low, high] = report.rows.filter((r) => r.codec === codec).sort((a, b) => a.kbps - b.kbps);
    expect(high!.ssim).toBeGreaterThan(low!.ssim);
  }
  expect(report.bdRates.filter((b) => b.metric === 'ssim')).toHaveLength(2);
  expect(report.decodeSpeed.map((d) => d.codec).sort()).toEqual(['vp8', 'vp8', 'x264-realtime', 'x264-realtime']);

  const md = await readFile(join(out, 'report.md'), 'utf8');
  expect(md).toMatch(/^# kiloface bench/);
  expect(md).toContain('Lowest achievable bitrate');
  expect(md).toContain('- AKD: ');
  const html = await readFile(join(out, 'report.html'), 'utf8');
  expect(html).toMatch(/^<!doctype html>/);
  // Four metrics, on payload and on wire rate.
  expect((html.match(/<svg /g) ?? []).length).toBe(8);
  expect(html).toContain('data:image/png;base64,');
  expect(html.trimEnd()).toMatch(/<\/html>$/);
  const frames = (await readFile(join(out, 'frames.tsv'), 'utf8')).trim().split('\n');
  expect(frames).toHaveLength(1 + 4 * 25);
}

describe('bench options', () => {
  it('quick mode means few clips, short clips, few rates', () => {
    const p = parseBenchArgs(['--out', '/tmp/x', '--quick']);
    expect(p.kind === 'run' && p.options).toMatchObject({ quick: true, maxClips: 3, seconds: 4, kbps: [6, 15, 40, 100] });
  });
  it('quick mode codes the ladder codecs at its smaller ladder; --no-ladder turns it off', () => {
    const quick = parseBenchArgs(['--out', '/tmp/x', '--quick']);
    expect(quick.kind === 'run' && quick.options.ladder).toEqual(QUICK_LADDER);
    const full = parseBenchArgs(['--out', '/tmp/x']);
    expect(full.kind === 'run' && full.options.ladder).toEqual(FULL_LADDER);
    const off = parseBenchArgs(['--out', '/tmp/x', '--quick', '--no-ladder']);
    expect(off.kind === 'run' && off.options.ladder).toEqual([]);
  });
  it('rejects nonsense rates', () => {
    expect(() => parseBenchArgs(['--out', '/tmp/x', '--kbps', '5,-1'])).toThrow(/positive/);
  });
});
