// Two-person calls through a bandwidth-limited TURN relay (Debian's coturn, `max-bps`), per link
// rate and video mode: what goes on the wire each way and what each person receives. A benchmark,
// not a test (tests/e2e/constrained-link.test.ts checks the same link).
//
//   npm run measure:link -- --kbps 24,32,64,128 [--modes standard,kiloface,auto] [--seconds 30]
//                           [--warmup 15] [--sfu] [--query cap=50] [--skip-build]
//
// The link: coturn's max-bps per TURN session, input and output policed separately (see
// harness/coturn.ts): P2P with `?ice=relay`, each direction of the call is held to kbps;
// through the SFU each browser's send and receive transports have allocations of their own, so
// upload and download are each held to kbps.
//
// Wire rates: the transport stats of every connection (every RTP, RTCP, DTLS and SCTP byte) plus
// 28 B of UDP/IPv4 per packet, as the sender counts them (what it pushes towards the relay, some
// of which the relay drops). Reception (harness/link-probe.ts): audio concealment,
// standard-video fps and freezes, kiloface geometry packets and rebuilt pictures with the longest
// gaps, over a window that starts after `--warmup` seconds of call (and, with kiloface, once the
// first picture is shown or 60 s have passed).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { E2E_OUTPUT, faceCameraY4m, HAVE_FACE_CLIP } from '../harness/cameras.ts';
import { launchChromium, openPage, REMOTE_TILE, type OpenedPage } from '../harness/browser.ts';
import { callCounters, callRates } from '../harness/call-stats.ts';
import { startCoturn } from '../harness/coturn.ts';
import { activeVideo, formatReception, readLinkProbe, startLinkProbe, videoSwitches, type LinkReception } from '../harness/link-probe.ts';
import { buildApp, startTestServer } from '../harness/server.ts';
import { speechWav } from '../harness/speech-wav.ts';

const { values } = parseArgs({
  options: {
    kbps: { type: 'string', default: '24,32,64,128' },
    modes: { type: 'string', default: 'standard,kiloface,auto' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '15' },
    sfu: { type: 'boolean', default: false },
    query: { type: 'string', default: '' },
    'skip-build': { type: 'boolean', default: false },
  },
});
const rates = values.kbps.split(',').map(Number);
const modes = values.modes.split(',');
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);

const camera = await faceCameraY4m();
const speech = speechWav(path.join(E2E_OUTPUT, 'video-modes'));
if (!values['skip-build']) {
  console.log('building the app…');
  await buildApp();
}
const browser = await launchChromium(camera, { audioWav: speech.file });
console.log(
  `${new Date().toISOString()}: ${values.sfu ? 'SFU' : 'P2P'} calls through coturn (max-bps = kbps × 125 B/s per session and direction), ?ice=relay; ` +
    `cameras: ${HAVE_FACE_CLIP ? 'shared talking-head clip' : 'synthetic face (kiloface may find no face)'}; microphones: ${speech.source}; ` +
    `${warmup} s warm-up, ${seconds} s measured; Chromium headless, loopback${values.query ? `; extra query ${values.query}` : ''}\n`,
);

const rows: string[] = [];
const waitForPicture = async (p: OpenedPage): Promise<boolean> =>
  p.page
    .waitForFunction((sel) => Number(document.querySelector<HTMLCanvasElement>(`${sel} canvas[data-role="neural-canvas"]`)?.dataset.frames ?? 0) >= 1, REMOTE_TILE, { timeout: 60_000 })
    .then(() => true, () => false);
const worst = (list: LinkReception[], pick: (r: LinkReception) => number, better: 'low' | 'high'): number =>
  list.map(pick).reduce((a, b) => (better === 'low' ? Math.max(a, b) : Math.min(a, b)));

try {
  for (const kbps of rates) {
    const coturn = await startCoturn({ linkKbps: kbps });
    const turn = { urls: [coturn.url], secret: coturn.secret, ttlSeconds: 3600 };
    const server = await startTestServer({ turn, ...(values.sfu ? { sfu: { ...DEFAULT_CONFIG.sfu, workers: 1 } } : { sfu: { ...DEFAULT_CONFIG.sfu, enabled: false } }) });
    try {
      for (const mode of modes) {
        const room = `link-${kbps}-${mode}-${Date.now()}`;
        const query = `ice=relay&video=${mode}${values.sfu ? '&mode=sfu' : ''}${values.query ? `&${values.query}` : ''}`;
        const people = [await openPage(browser, `${server.url}/r/${room}?name=A&${query}`), await openPage(browser, `${server.url}/r/${room}?name=B&${query}`)];
        try {
          await Promise.all(people.map((p) => p.page.waitForSelector(`${REMOTE_TILE}[data-connection="connected"]`, { timeout: 60_000 })));
          await people[0]!.page.waitForTimeout(warmup * 1000);
          const pictures = mode === 'standard' ? [] : await Promise.all(people.map(waitForPicture));
          const [first, probes] = await Promise.all([Promise.all(people.map((p) => callCounters(p.page))), Promise.all(people.map((p) => startLinkProbe(p.page)))]);
          await people[0]!.page.waitForTimeout(seconds * 1000);
          const [last, received] = await Promise.all([Promise.all(people.map((p) => callCounters(p.page))), Promise.all(people.map((p, i) => readLinkProbe(p.page, probes[i]!)))]);
          const wire = people.map((_, i) => callRates(first[i]!, last[i]!));
          const switches = await Promise.all(people.map((p) => videoSwitches(p.page)));
          const active = await Promise.all(people.map((p) => activeVideo(p.page)));
          console.log(`${kbps} kbit/s, ${mode}${pictures.some((p) => !p) ? ' (a receiver showed no rebuilt picture within 60 s)' : ''}:`);
          people.forEach((_, i) => {
            const name = i === 0 ? 'A' : 'B';
            console.log(`  ${name} sends ${active[i]}: ${wire[i]!.sendKbps.toFixed(1)} kbit/s sent, ${wire[i]!.recvKbps.toFixed(1)} received; ${name} receives: ${formatReception(received[i]!)}`);
            if (mode === 'auto') console.log(`    ${name}'s auto: ${switches[i]!.map((s) => `${s.atSeconds.toFixed(1)} s ${s.from} → ${s.to} (${s.reason})`).join('; ') || 'no switch'}`);
          });
          const autoText =
            mode === 'auto'
              ? switches.map((list, i) => `${i === 0 ? 'A' : 'B'}: ${list.filter((s) => s.from !== 'none').map((s) => `${s.to} at ${s.atSeconds.toFixed(0)} s`).join(', ') || 'standard throughout'}`).join('; ')
              : '';
          const fmtS = (ms: number): string => (ms / 1000).toFixed(1);
          rows.push(
            `| ${kbps} | ${mode} | ${wire[0]!.sendKbps.toFixed(1)} | ${wire[1]!.sendKbps.toFixed(1)} | ${(worst(received, (r) => r.audioConcealment, 'low') * 100).toFixed(1)} | ` +
              (mode === 'kiloface' ? '– | – | ' : `${worst(received, (r) => r.videoFps, 'high').toFixed(1)} | ${received.reduce((s, r) => s + r.freezes, 0)} (${received.reduce((s, r) => s + r.freezeSeconds, 0).toFixed(1)} s) | `) +
              (mode === 'standard' ? '– | – | ' : `${worst(received, (r) => r.picturesPerSecond, 'high').toFixed(1)} | ${fmtS(worst(received, (r) => r.pictureMaxGapMs, 'low'))} / ${fmtS(worst(received, (r) => r.geometryMaxGapMs, 'low'))} | `) +
              `${autoText} |`,
          );
        } finally {
          for (const p of people) await p.context.close();
        }
      }
    } finally {
      await server.close();
      await coturn.close();
    }
  }
} finally {
  await browser.close();
}
console.log(
  '\n| link kbit/s | mode | A→B wire kbit/s | B→A wire kbit/s | audio concealed % (worse) | standard fps (worse) | freezes (both, total time) | kiloface pictures/s (worse) | longest gap, pictures / geometry, s (worse) | auto |\n|---|---|---|---|---|---|---|---|---|---|',
);
for (const row of rows) console.log(row);
