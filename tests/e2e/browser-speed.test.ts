import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onnxNodeRuntime } from '../../codec/runners/onnx-node.ts';
import { useCall } from './helpers/call-fixture.ts';

// /speed in headless Chromium: the codec's networks on onnxruntime-web (WASM here: no WebGPU
// headless), with the same outputs as onnxruntime-node. Prints the speeds for the notes.
function pattern(length: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length }, (_, i) => offset + scale * (((i * 7919) % 256) / 255));
}

describe('networks in the browser (onnxruntime-web)', () => {
  const call = useCall();

  it('runs the tracker and decoder networks on one WASM thread, as a call does, matching onnxruntime-node', async () => {
    const { page } = await call.open('/speed?iterations=15');
    const columnWidths = (): Promise<number[]> => page.locator('.speed-table thead th').evaluateAll((ths) => ths.map((th) => th.getBoundingClientRect().width));
    await page.waitForSelector('.speed-table');
    const widthsBefore = await columnWidths();
    await page.waitForFunction(() => window.kilofaceSpeed?.done === true, undefined, { timeout: 240_000 });
    // Issue 15 item 7: a verdict in words, a way back, and columns that stay put as rows arrive.
    const verdict = (await page.locator('[data-role="verdict"]').textContent()) ?? '';
    console.log(`verdict: ${verdict}`);
    expect(verdict).toMatch(/^This device rebuilds ~\d+(\.\d)? faces a second: (enough for \d+ (person|people)|not enough for one person) at 25 fps.* Tracking your own face takes \d+ ms a frame/);
    expect(await page.locator('a[data-role="back"]').getAttribute('href')).toBe('/');
    expect(await columnWidths()).toEqual(widthsBefore);
    expect(await page.locator('.speed-table td[data-stat]').first().evaluate((td) => getComputedStyle(td).fontVariantNumeric)).toBe('tabular-nums');
    const speed = (await page.evaluate(() => window.kilofaceSpeed))!;
    for (const r of speed.results) console.log(`browser ${r.model}: median ${r.medianMs.toFixed(1)} ms, best ${r.minMs.toFixed(1)} ms (${r.backend}, ${speed.threads} threads, cross-origin isolated: ${speed.crossOriginIsolated})`);
    for (const e of speed.errors) console.log(`browser: ${e}`);
    expect(speed.crossOriginIsolated).toBe(true);
    expect(speed.errors.filter((e) => !e.includes('not shipped'))).toEqual([]);
    const byName = new Map(speed.results.map((r) => [r.model, r]));
    for (const [name, file, feeds] of [
      ['detector', 'face_detection_short_range.onnx', { input: { data: pattern(128 * 128 * 3, 2, -1), dims: [1, 128, 128, 3] } }],
      ['landmarks', 'face_landmark.onnx', { input: { data: pattern(192 * 192 * 3), dims: [1, 192, 192, 3] } }],
    ] as const) {
      const runner = await onnxNodeRuntime.load(path.resolve('models/mediapipe', file));
      const node = await runner.run(feeds);
      await runner.close();
      const first = Array.from(node[runner.outputNames[0]!]!.data.slice(0, 8));
      const browserValues = byName.get(name)!.firstOutputs;
      first.forEach((v, i) => expect(Math.abs(v - browserValues[i]!), `${name} output ${i}`).toBeLessThan(1e-3));
    }
  }, 300_000);
});
