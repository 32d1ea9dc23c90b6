// Measures a real two-person P2P call in headless Chromium: connect time, and the standard-codec
// video bitrate, fps and resolution at each cap and codec. Prints a table; a benchmark, not a test.
//
//   npm run measure:call -- [--caps 30,50,200] [--codecs VP8,VP9,H264,AV1] [--seconds 8]
import { parseArgs } from 'node:util';
import { launchChromium, mean, openPage, readStatText, REMOTE_TILE, sampleStat } from '../harness/browser.ts';
import { syntheticCameraY4m } from '../harness/cameras.ts';
import { buildApp, startTestServer } from '../harness/server.ts';

const { values } = parseArgs({
  options: { caps: { type: 'string', default: '30,50,200' }, codecs: { type: 'string', default: 'VP8,AV1' }, seconds: { type: 'string', default: '8' } },
});
const caps = values.caps.split(',').map(Number);
const codecs = values.codecs.split(',');
const seconds = Number(values.seconds);

const y4m = await syntheticCameraY4m();
console.log('building the app…');
await buildApp();
const server = await startTestServer();
const browser = await launchChromium(y4m);
console.log('fake camera: synthetic face, 320x240 25 fps; machine: Chromium headless on loopback\n');
console.log('codec  cap kbit/s  sent kbit/s  received kbit/s  received wire kbit/s  fps   resolution  connect ms');
try {
  for (const codec of codecs) {
    for (const cap of caps) {
      const room = `measure-${codec}-${cap}-${Date.now()}`;
      const started = performance.now();
      const a = await openPage(browser, `${server.url}/r/${room}?name=A&codec=${codec}&cap=${cap}&neural=off`);
      const b = await openPage(browser, `${server.url}/r/${room}?name=B&codec=${codec}&cap=${cap}&neural=off`);
      await b.page.waitForFunction((sel) => (document.querySelector<HTMLVideoElement>(`${sel} video`)?.videoWidth ?? 0) > 0, REMOTE_TILE, { timeout: 30_000 });
      const connectMs = performance.now() - started;
      await b.page.waitForTimeout(5000); // the bandwidth estimator and encoder settle
      const [sent, received, wire, fps] = await Promise.all([
        sampleStat(a.page, 'video-send-kbps', seconds),
        sampleStat(b.page, 'video-kbps', seconds),
        sampleStat(b.page, 'video-wire-kbps', seconds),
        sampleStat(b.page, 'video-fps', seconds),
      ]);
      const used = await readStatText(b.page, 'video-codec');
      const resolution = await readStatText(b.page, 'video-resolution');
      console.log(
        `${used.padEnd(6)} ${String(cap).padStart(10)}  ${mean(sent).toFixed(1).padStart(11)}  ${mean(received).toFixed(1).padStart(15)}  ${mean(wire).toFixed(1).padStart(20)}  ${mean(fps).toFixed(1).padStart(4)}  ${resolution.padStart(10)}  ${connectMs.toFixed(0).padStart(10)}`,
      );
      await a.context.close();
      await b.context.close();
    }
  }
} finally {
  await browser.close();
  await server.close();
}
