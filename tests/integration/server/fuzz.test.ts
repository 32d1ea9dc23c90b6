// `npm run fuzz` at a small size, as CI runs it: every surface, no crash, memory bounded.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface FuzzReport {
  surfaces: { surface: string; inputs: number; crashes: number; notes: string[]; serverRssMB: [number, number]; workerRssMB: [number, number]; heapBeforeMB: number; heapAfterMB: number }[];
}

describe('npm run fuzz (small)', () => {
  it('drives HTTP, signalling, every SFU method and the codec receiver without a crash', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/fuzz/run.ts', '--inputs', '400', '--seed', '7', '--json'], { encoding: 'utf8', timeout: 240_000 });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as FuzzReport;
    expect(report.surfaces.map((s) => s.surface)).toEqual(['http', 'signalling', 'sfu', 'codec-receiver']);
    for (const s of report.surfaces) {
      expect(s.inputs, s.surface).toBe(400);
      expect(s.crashes, `${s.surface}: ${s.notes.join('; ')}`).toBe(0);
      expect(s.serverRssMB[1] - s.serverRssMB[0], s.surface).toBeLessThan(64);
      expect(s.workerRssMB[1] - s.workerRssMB[0], s.surface).toBeLessThan(32);
    }
    const receiver = report.surfaces.at(-1)!;
    expect(receiver.heapAfterMB - receiver.heapBeforeMB).toBeLessThan(16);
  }, 300_000);
});
