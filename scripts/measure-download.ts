// What joining a call downloads, for a first visit (empty browser cache) and a repeat visit (same
// profile, Chromium restarted), counted by Chromium itself (DevTools Network.loadingFinished
// encodedDataLength, page and workers): see measureFirstAndRepeatVisit.
//
//   npm run measure:download                               # builds and serves this tree
//   npm run measure:download -- --url http://127.0.0.1:8091 # any running kiloface server (e.g. an older checkout)
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { byPath, measureFirstAndRepeatVisit, type Download } from '../harness/download-meter.ts';
import { syntheticCameraY4m } from '../harness/cameras.ts';
import { buildApp, startTestServer } from '../harness/server.ts';

const { values } = parseArgs({ options: { url: { type: 'string' }, 'no-build': { type: 'boolean' } } });

const y4m = await syntheticCameraY4m();

let server: Awaited<ReturnType<typeof startTestServer>> | undefined;
if (!values.url) {
  if (!values['no-build']) {
    console.log('building the app…');
    await buildApp();
  }
  server = await startTestServer({ sfu: { ...DEFAULT_CONFIG.sfu, enabled: false } });
}
const base = values.url ?? server!.url;

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
function report(label: string, downloads: Download[]): number {
  const total = downloads.reduce((sum, d) => sum + d.bytes, 0);
  console.log(`\n${label}: ${downloads.length} requests, ${downloads.filter((d) => !d.cached).length} from the network, ${total} bytes (${(total / 1024 / 1024).toFixed(2)} MiB) on the wire`);
  for (const row of byPath(downloads)) console.log(`  ${kib(row.bytes).padStart(12)}  ${String(row.requests).padStart(2)} requests, ${row.network} from the network  ${row.path}`);
  return total;
}

try {
  const { first, repeat } = await measureFirstAndRepeatVisit(base, y4m);
  const firstBytes = report(`first visit (empty cache) to ${base}`, first);
  const repeatBytes = report('repeat visit (same profile, browser restarted)', repeat);
  console.log(`\nfirst visit ${firstBytes} B, repeat visit ${repeatBytes} B`);
} finally {
  await server?.close();
}
