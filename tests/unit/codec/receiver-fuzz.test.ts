import { describe, expect, it } from 'vitest';
import { fuzzReceiver } from '../../../scripts/fuzz/receiver-surface.ts';

// The codec-receiver fuzz surface at a small size (the long run's figures are in the README).
describe('receiver fuzz surface', () => {
  it('survives 3,000 hostile inputs with no crash and a flat heap', async () => {
    const report = await fuzzReceiver({ seed: 1, inputs: 3000 });
    expect(report.inputs).toBe(3000);
    expect(report.crashes, report.notes.join('\n')).toBe(0);
    // The receiver may hold 256 frames, two 64 kB pictures and a 256x256 decoded one: well under 8 MB.
    expect(report.heapAfterMB - report.heapBeforeMB).toBeLessThan(8);
    // Every kind of hostile picture was refused by the header check, none by the decoder.
    expect(report.notes.join('\n')).toMatch(/picture errors: .*bad-size \d+/);
    expect(report.notes.join('\n')).toMatch(/0 oversized/);
  }, 60_000);

  it('is reproducible: the same seed gives the same inputs and the same outcome', async () => {
    const outcome = async (seed: number) => (await fuzzReceiver({ seed, inputs: 600 })).notes.filter((n) => !n.startsWith('heap'));
    expect(await outcome(7)).toEqual(await outcome(7));
    expect(await outcome(8)).not.toEqual(await outcome(7));
  }, 60_000);
});
