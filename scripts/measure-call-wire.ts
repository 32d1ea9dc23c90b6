// Measures a call's whole wire rate per direction, and the rebuilt faces each person's canvases
// drew a second (issue 17's "≥ 15 in a two-person call"; two people P2P by default; `--people 3 --sfu`
// for a room through the SFU), per video mode, with speech on every fake microphone (a shared clip's sound track, or a synthetic talker without ../shared/data)
// and a real talking head as both cameras when the clip is there. A benchmark, not a test.
//
//   npm run measure:wire -- [--modes kiloface,auto,both] [--seconds 30] [--settle 2] [--people 2] [--sfu] [--dist DIR] [--query audioBundles=on]
//
// Rates come from the transport stats of every connection (every RTP, RTCP, DTLS and SCTP byte)
// plus 28 B of UDP/IPv4 per packet; the window starts `--settle` seconds after both people see each other's rebuilt
// face (modes with kiloface; the first ~30-60 s of a call on a slow machine go to compiling
// onnxruntime's WASM: `--settle 60` measures after that) or after 10 s, so references sent at the start are in it only when
// the receivers ask for them. `--dist` serves another build of the app (e.g. an older commit's, to
// compare "before"; it ignores `?video=`). `--query` adds to both room addresses (`audioBundles=on`:
// kiloface's frame bundles ride in the Opus packets instead of the datachannel).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { E2E_OUTPUT, faceCameraY4m, HAVE_FACE_CLIP } from '../harness/cameras.ts';
import { launchChromium, openPage, REMOTE_TILE, type OpenedPage } from '../harness/browser.ts';
import { callCounters, callRates, formatRates, type CallRates } from '../harness/call-stats.ts';
import { speechWav } from '../harness/speech-wav.ts';
import { buildApp, startTestServer } from '../harness/server.ts';

const { values } = parseArgs({
  options: {
    modes: { type: 'string', default: 'kiloface,auto' },
    seconds: { type: 'string', default: '30' },
    settle: { type: 'string', default: '2' },
    dist: { type: 'string' },
    query: { type: 'string', default: '' },
    people: { type: 'string', default: '2' },
    sfu: { type: 'boolean', default: false },
  },
});
const peopleCount = Number(values.people);
if (!Number.isInteger(peopleCount) || peopleCount < 2 || peopleCount > 6) throw new Error('--people takes 2 to 6');
// Three people or more always go through the SFU.
const viaSfu = values.sfu || peopleCount > 2;
const modes = values.modes.split(',');
const seconds = Number(values.seconds);

const camera = await faceCameraY4m();
const speech = speechWav(path.join(E2E_OUTPUT, 'video-modes'));
if (!values.dist) {
  console.log('building the app…');
  await buildApp();
}
const server = await startTestServer({ sfu: { ...DEFAULT_CONFIG.sfu, enabled: viaSfu, workers: 1 }, ...(values.dist ? { distDir: path.resolve(values.dist) } : {}) });
const browser = await launchChromium(camera, { audioWav: speech.file });
console.log(`cameras: ${HAVE_FACE_CLIP ? 'shared talking-head clip, 640x360' : 'synthetic face 320x240'}; microphones: ${speech.source}; ${seconds} s per mode; ${peopleCount} people, ${viaSfu ? 'through the SFU' : 'P2P'}, Chromium headless, loopback\n`);

const waitForFaces = async (pages: OpenedPage[]): Promise<boolean> => {
  try {
    await Promise.all(
      pages.map((p) => p.page.waitForFunction((sel) => Number(document.querySelector<HTMLCanvasElement>(`${sel} canvas[data-role="neural-canvas"]`)?.dataset.frames ?? 0) >= 3, REMOTE_TILE, { timeout: 120_000 })),
    );
    return true;
  } catch {
    return false;
  }
};

try {
  for (const mode of modes) {
    const room = `wire-${mode}-${Date.now()}`;
    const extra = (values.query ? `&${values.query}` : '') + (viaSfu ? '&mode=sfu' : '');
    const names = 'ABCDEF'.slice(0, peopleCount).split('');
    const people: OpenedPage[] = [];
    for (const name of names) people.push(await openPage(browser, `${server.url}/r/${room}?name=${name}&video=${mode}${extra}`));
    await Promise.all(people.map((p) => p.page.waitForSelector(`${REMOTE_TILE}[data-connection="connected"]`, { timeout: 60_000 })));
    // `auto` picks standard on this loopback link: no kiloface to wait for.
    const faces = mode === 'standard' || mode === 'auto' ? false : await waitForFaces(people);
    await people[0]!.page.waitForTimeout(faces ? Number(values.settle) * 1000 : 10_000);
    // Frame bundles that rode in audio frames / went by datachannel for want of one (silence), all connections.
    const bundles = (): Promise<{ sent: number; fallback: number }[]> =>
      Promise.all(
        people.map((p) =>
          p.page.evaluate(() => {
            const sum = { sent: 0, fallback: 0 };
            for (const peer of window.kiloface?.call?.peers.values() ?? []) {
              sum.sent += peer.audioBundleCounts.sent;
              sum.fallback += peer.audioBundleCounts.fallback;
            }
            sum.sent += window.kiloface?.call?.sfuAudioBundleCounts?.sent ?? 0;
            sum.fallback += window.kiloface?.call?.sfuAudioBundleCounts?.fallback ?? 0;
            return sum;
          }),
        ),
      );
    const references = (): Promise<{ sent: number; received: number }[]> =>
      Promise.all(
        people.map((p) =>
          p.page.evaluate(() => {
            const neural = window.kiloface?.neural;
            let received = 0;
            for (const status of neural?.receiverStatus.values() ?? []) received += status.stats.references;
            return { sent: neural?.latestSenderStatus?.stats.references ?? 0, received };
          }),
        ),
      );
    // Faces each person's canvases drew (every remote tile): the rebuilt pictures a second they saw.
    const drawn = (): Promise<number[]> =>
      Promise.all(
        people.map((p) =>
          p.page.evaluate((sel) => {
            let frames = 0;
            for (const canvas of document.querySelectorAll<HTMLCanvasElement>(`${sel} canvas[data-role="neural-canvas"]`)) frames += Number(canvas.dataset.frames ?? 0);
            return frames;
          }, REMOTE_TILE),
        ),
      );
    const [first, refsBefore, bundlesBefore, drawnBefore] = await Promise.all([Promise.all(people.map((p) => callCounters(p.page))), references(), bundles(), drawn()]);
    await people[0]!.page.waitForTimeout(seconds * 1000);
    const [last, refsAfter, bundlesAfter, drawnAfter] = await Promise.all([Promise.all(people.map((p) => callCounters(p.page))), references(), bundles(), drawn()]);
    const rates: CallRates[] = people.map((_, i) => callRates(first[i]!, last[i]!));
    const active = await Promise.all(people.map((p) => p.page.locator('section.tile[data-peer="self"] [data-stat="video-mode"]').textContent().catch(() => null)));
    console.log(`mode ${mode}${faces ? '' : ' (no rebuilt face within the wait)'}:`);
    const windowS = (last[0]!.atMs - first[0]!.atMs) / 1000;
    // What limits the pictures: each sender's tracker and each receiver's decoder (their last status windows).
    const work = await Promise.all(
      people.map((p) =>
        p.page.evaluate(() => {
          const neural = window.kiloface?.neural;
          const sender = neural?.latestSenderStatus;
          const receivers = [...(neural?.receiverStatus.values() ?? [])].map((r) => `${r.decodedFps.toFixed(1)}/s at ${r.decodeMs.toFixed(0)} ms`);
          return sender ? `tracker ${sender.trackedFps.toFixed(1)}/s at ${sender.trackMs.toFixed(0)} ms${sender.trackEvery === 1 ? '' : ` (every ${sender.trackEvery}nd frame)`}, decoder ${receivers.join(', ') || '-'}` : 'no kiloface sender';
        }),
      ),
    );
    rates.forEach((r, i) => console.log(`  ${names[i]} (sending ${active[i] ?? '?'}): ${formatRates(r)}; kiloface references in the window: ${refsAfter[i]!.sent - refsBefore[i]!.sent} sent, ${refsAfter[i]!.received - refsBefore[i]!.received} received; frame bundles in audio ${bundlesAfter[i]!.sent - bundlesBefore[i]!.sent}, by datachannel for want of an audio frame ${bundlesAfter[i]!.fallback - bundlesBefore[i]!.fallback}; rebuilt faces drawn ${((drawnAfter[i]! - drawnBefore[i]!) / windowS).toFixed(1)} a second (${work[i]})`));
    console.log(`  => whole call per person: ${rates.map((r, i) => `${names[i]} sends ${r.sendKbps.toFixed(1)}, receives ${r.recvKbps.toFixed(1)}`).join('; ')} (kbit/s)\n`);
    for (const p of people) await p.context.close();
  }
} finally {
  await browser.close();
  await server.close();
}
