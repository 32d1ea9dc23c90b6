import { describe, expect, it } from 'vitest';
import { FAKE_CAMERA_Y4M } from '../../harness/cameras.ts';
import { byPath, measureFirstAndRepeatVisit, type Download } from '../../harness/download-meter.ts';
import { useTestServer } from './helpers/call-fixture.ts';

// What joining a call costs on the wire (issue 16 item 5), counted by Chromium's DevTools
// protocol for the page and its workers. Before content-hashed, compressed, cacheable files a
// first visit took 36.4 MB (the WASM twice, the landmark model three times) and a repeat visit
// 35.2 MB (`npm run measure:download` on the tree before, 2026-12-06).
const FIRST_VISIT_BEFORE = 36_430_293;
const REPEAT_VISIT_MAX = 100_000;

const app = useTestServer();

const total = (downloads: Download[]): number => downloads.reduce((sum, d) => sum + d.bytes, 0);

describe('the app on the wire', () => {
  it('downloads each file once on a first visit, 3x less than before, and < 100 kB on a repeat visit', async () => {
    const { first, repeat } = await measureFirstAndRepeatVisit(app.server.url, FAKE_CAMERA_Y4M);
    console.log(`first visit ${total(first)} B in ${first.length} requests; repeat visit ${total(repeat)} B: ${JSON.stringify(byPath(repeat).filter((r) => r.bytes > 0))}`);
    // The visit loaded the models and the WASM (else the figures below would mean nothing).
    expect(first.some((d) => d.url.endsWith('.wasm') && d.status === 200)).toBe(true);
    expect(first.filter((d) => d.url.endsWith('.onnx')).length).toBeGreaterThanOrEqual(4);
    // Page and workers share what they fetch: no file comes from the network twice.
    expect(byPath(first).filter((row) => row.network > 1)).toEqual([]);
    expect(total(first)).toBeLessThan(FIRST_VISIT_BEFORE / 3);
    expect(total(repeat)).toBeLessThan(REPEAT_VISIT_MAX);
    expect(repeat.filter((d) => !d.cached && !d.url.includes('/r/'))).toEqual([]);
  }, 600_000);
});
