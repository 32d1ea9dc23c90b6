import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { itNeeds } from '../../helpers/needs.ts';
import { DATACHANNEL_WIRE_OVERHEAD as PER_PACKET } from '../../../codec/stream/wire.ts';
import { QUICK_KILOFACE_POINTS, kilofacePointId } from '../../../bench/codecs/kiloface-codec.ts';
import { readStream } from '../../../bench/codecs/kiloface-stream.ts';
import { PacketType } from '../../../codec/bitstream/packet.ts';
import { packetType } from '../../../codec/stream/reference-packet.ts';
import { parseBenchArgs } from '../../../bench/options.ts';
import { runBench } from '../../../bench/run-bench.ts';
import type { BenchReport } from '../../../bench/report/schema.ts';
import { kilofacePathMissing, syntheticFaceDataDir } from './synthetic-face-clip.ts';

describe('kiloface operating points', () => {
  it('operating points have readable unique ids', () => {
    const ids = QUICK_KILOFACE_POINTS.map(kilofacePointId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('w75-q4-f1');
    expect(ids).toContain('w75-q8-f5-r2s');
    expect(ids).toContain('w40-q8-f5-t2');
  });
});

// The whole path on a synthetic face: needs ffmpeg (with libwebp), the face models and the
// decoder model folder.
const skipReason = kilofacePathMissing();
const title = 'kiloface and x264 on a synthetic face clip: rows with every bit counted, AKD, BD-rates, decode speed';

describe('kiloface in the bench, end to end', () => {
  itNeeds(skipReason)(skipReason ? `${title} (SKIPPED: ${skipReason})` : title, { timeout: 240_000 }, async () => {
    const data = await syntheticFaceDataDir({ width: 320, height: 240, frames: 50, cx: 160, cy: 118, size: 120 });
    const out = await mkdtemp(join(tmpdir(), 'kf-bench-out-'));
    const cache = await mkdtemp(join(tmpdir(), 'kf-bench-cache-'));
    try {
      const args = ['--data', data, '--out', out, '--cache', cache, '--quick', '--codecs', 'kiloface,x264-realtime', '--kbps', '20,60', '--seconds', '1', '--anchor', 'x264-realtime', '--no-ladder'];
      const parsed = parseBenchArgs(args);
      if (parsed.kind !== 'run') throw new Error('expected a run');
      await runBench(parsed.options, `bench ${args.join(' ')}`);
      const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as BenchReport;

      expect(report.settings.crop.provider).toBe('tracker');
      expect(report.failures).toEqual([]);
      expect(report.clips).toHaveLength(1);
      const frames = report.clips[0]!.frames;
      expect(frames).toBe(25);
      const kf = report.rows.filter((r) => r.codec === 'kiloface');
      expect(kf.map((r) => r.point.id)).toEqual(QUICK_KILOFACE_POINTS.map(kilofacePointId));
      for (const row of kf) {
        const b = row.breakdown as { reference: number; anchors: number; frames: number; noFace: number };
        expect(b.reference).toBeGreaterThan(200); // a WebP picture of the face
        expect(b.anchors).toBeGreaterThan(6);
        expect(b.frames).toBeGreaterThan(6);
        expect(row.payloadBytes).toBe(b.reference + b.anchors + b.frames + b.noFace);
        // References and anchors on the datachannel; the bundles ride in the audio (a few trailer bytes each).
        expect(row.wireBytes - row.payloadBytes).toBeGreaterThanOrEqual(row.packets * PER_PACKET);
        expect(row.wireBytes - row.payloadBytes).toBeLessThan(row.packets * PER_PACKET + 10 * frames);
        expect(row.kbps).toBeCloseTo((row.payloadBytes * 8) / 1000 / (frames / 25), 9);
        expect(row.psnr).toBeGreaterThan(12);
        expect(row.ssim).toBeGreaterThan(0.2);
        expect(row.akd).not.toBeNull();
        expect(row.akd!).toBeLessThan(20);
      }
      // 25 packets/s against 5: same pictures, more headers on the wire.
      const f5 = kf.find((r) => r.point.id === 'w75-q4-f5')!;
      const f1 = kf.find((r) => r.point.id === 'w75-q4-f1')!;
      expect(f1.psnr).toBe(f5.psnr);
      expect(f1.payloadBytes).toBeGreaterThan(f5.payloadBytes + 15 * 6); // a 6-byte header per bundle
      expect(f1.wireKbps - f1.kbps).toBeGreaterThan(f5.wireKbps - f5.kbps); // a trailer length per bundle
      // A reference every 2 s: in a 1 s clip, still one.
      const refresh = kf.find((r) => r.point.id === 'w75-q8-f5-r2s')!;
      const stream = readStream(new Uint8Array(await readFile(join(out, refresh.stream))));
      expect(stream.packets.filter((p) => packetType(p.bytes) === PacketType.ReferencePicture)).toHaveLength(1);
      // The better reference picture costs more.
      const w40 = kf.find((r) => r.point.id === 'w40-q8-f5')!;
      const w90 = kf.find((r) => r.point.id === 'w90-q8-f5')!;
      expect(w90.payloadBytes).toBeGreaterThan(w40.payloadBytes);

      // AKD for the standard codec too, with the same landmark model.
      for (const row of report.rows.filter((r) => r.codec === 'x264-realtime')) expect(row.akd).not.toBeNull();
      expect(report.metrics.akd).toMatch(/^available/);
      // BD-rate entries kiloface vs x264 exist both ways, on every metric.
      expect(report.bdRates.filter((b) => b.test === 'kiloface' && b.anchor === 'x264-realtime')).toHaveLength(4);
      expect(report.bdRatesWire.filter((b) => b.test === 'x264-realtime' && b.anchor === 'kiloface')).toHaveLength(4);
      // Decode speed of frame.onnx at 1 and 2 threads.
      const speed = report.decodeSpeed.filter((d) => d.codec === 'kiloface');
      expect(speed.map((d) => d.threads).sort()).toEqual([1, 2]);
      for (const d of speed) expect(d.msPerFrame).toBeGreaterThan(0.5);
      const md = await readFile(join(out, 'report.md'), 'utf8');
      expect(md).toContain('## kiloface against each codec');
      expect(md).toContain('AKD px');
    } finally {
      for (const dir of [data, out, cache]) await rm(dir, { recursive: true, force: true });
    }
  });
});
