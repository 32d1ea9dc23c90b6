import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.ts';
import { DEFAULT_CONFIG } from '../../server/config.ts';
import { E2E_OUTPUT, faceCameraY4m, HAVE_FACE_CLIP } from '../../harness/cameras.ts';
import { neuralFramesShown, REMOTE_TILE, waitForNeuralFrames, type OpenedPage } from '../../harness/browser.ts';
import { callCounters, callRates, formatRates } from '../../harness/call-stats.ts';
import { startCoturn, type Coturn } from '../../harness/coturn.ts';
import { activeVideo, formatReception, readLinkProbe, startLinkProbe, videoSwitches } from '../../harness/link-probe.ts';
import { startTestServer } from '../../harness/server.ts';
import { defaultPolicyOptions, MIN_STANDARD_VIDEO_KBPS } from '../../web/call/video-mode-policy.ts';
import { speechWav } from '../../harness/speech-wav.ts';
import { useChromium } from './helpers/call-fixture.ts';
import { startLinkShaper, type LinkShaper } from './helpers/link-shaper.ts';

// A two-person call, P2P and through the SFU, whose every packet crosses Debian's coturn limited to
// a link rate (max-bps; harness/coturn.ts), both people in `auto`, speech on both
// microphones (issue 16 item 7). At 32 kbit/s auto must drop to kiloface, and voice and geometry must get
// through; at 128 kbit/s auto must carry standard video. The kiloface checks need a real face for
// the tracker (../shared/data); without it they are skipped, said in the log.

/** Auto settles on kiloface within this long of the call connecting (the target). */
const SETTLE_MS = 20_000;
/** Audio concealment over the window (the target: < 5 %). */
const MAX_CONCEALMENT = 0.05;
/**
 * Geometry leaves in bundles ~5 times a second; the issue asks for no gap over 1 s. Measured here
 * (2026-12-06, both people's trackers and decoders on this 2-core machine) the receivers' longest
 * gaps were 0.8-1.5 s, and the senders' own (their status: the longest time between geometry
 * packets they sent) 0.8-1.4 s: the gaps start in a sender starved of CPU, not on the link. So the
 * link may add at most LINK_GAP_MS to the sender's own gap, and no gap may pass MAX_GEOMETRY_GAP_MS.
 */
const LINK_GAP_MS = 1000;
const MAX_GEOMETRY_GAP_MS = 3000;
const MIN_GEOMETRY_PACKETS_PER_S = 0.8;
/** Rebuilt pictures came at 2.2-2.4/s here (two decoders and trackers on 2 cores); the bound catches a stopped decoder. */
const MIN_PICTURES_PER_S = 0.1;
const WINDOW_S = 20;
/** Auto's first trial is over by then, or the window starts without it. */
const FIRST_TRIAL_BY_MS = 90_000;
/** From the link's recovery to both people back on standard: a minute of clean link, the trial, and room for a loaded machine. */
const RECOVERY_MS = 180_000;
/** What auto counts as a clean link sample (its loss and RTT bounds), for the recovery case's log. */
const CLEAN = defaultPolicyOptions(MIN_STANDARD_VIDEO_KBPS);

async function connected(...pages: OpenedPage[]): Promise<number> {
  await Promise.all(pages.map((p) => p.page.waitForSelector(`${REMOTE_TILE}[data-connection="connected"]`, { timeout: 60_000 })));
  return Date.now();
}

// Needs the machine to itself: inside a suite whose integration tests (ffmpeg, the bench) ran
// beside the browsers, at load average 25-30, both people's trackers and decoders starved (0-0.9
// rebuilt pictures/s, RTT over 1 s, 8-31 % of audio concealed) and the cases failed twice in a row;
// `npm test` therefore runs the e2e project after the others, one file at a time. One retry: media
// timing varies with load; a behaviour that is broken fails both tries.
describe.each(['p2p', 'sfu'] as const)('a %s call through a TURN relay limited by coturn, both people in auto', { retry: 1 }, (mode) => {
  const opened: { coturn: Coturn; server: RunningServer; shaper?: LinkShaper }[] = [];
  // Registered before the browser's hooks, so it runs after Chromium is closed.
  afterAll(async () => {
    for (const { coturn, server, shaper } of opened) {
      await server.close();
      await shaper?.close();
      await coturn.close();
    }
  });
  beforeAll(() => {
    console.log(`camera: ${HAVE_FACE_CLIP ? 'shared talking-head clip' : 'synthetic face (no kiloface flow checks)'}`);
  });
  const chromium = useChromium({ camera: faceCameraY4m, audioWav: () => speechWav(path.join(E2E_OUTPUT, 'video-modes')).file });

  /**
   * coturn at `kbps`, a server handing out its credentials, and two people in `auto` relayed through
   * it; with `shaper`, coturn runs unlimited behind our own relay at `kbps`, whose rate can change.
   */
  async function relayedCall(kbps: number, withShaper = false): Promise<[OpenedPage, OpenedPage, LinkShaper | undefined]> {
    const coturn = await startCoturn(withShaper ? {} : { linkKbps: kbps });
    const shaper = withShaper ? await startLinkShaper({ turnPort: coturn.port, kbps }) : undefined;
    const sfu = mode === 'sfu' ? { ...DEFAULT_CONFIG.sfu, workers: 1 } : { ...DEFAULT_CONFIG.sfu, enabled: false };
    const server = await startTestServer({ sfu, turn: { urls: [shaper?.url ?? coturn.url], secret: coturn.secret, ttlSeconds: 600 } });
    opened.push({ coturn, server, ...(shaper ? { shaper } : {}) });
    const room = `link-${mode}-${kbps}-${Date.now()}`;
    const query = `ice=relay&video=auto${mode === 'sfu' ? '&mode=sfu' : ''}`;
    const alice = await chromium.openPage(`${server.url}/r/${room}?name=Alice&${query}`);
    const bob = await chromium.openPage(`${server.url}/r/${room}?name=Bob&${query}`);
    return [alice, bob, shaper];
  }

  it('at 32 kbit/s: auto settles on kiloface within 20 s, audio flows, geometry keeps arriving', async () => {
    const [alice, bob] = await relayedCall(32);
    const start = await connected(alice, bob);
    // The room really is where this case says (without a mediasoup worker the server stays P2P).
    expect(await alice.page.evaluate(() => window.kiloface!.call!.mode)).toBe(mode);
    const people = [alice, bob];
    // Auto starts on kiloface and tries standard once the call settled; on this link the trial must
    // fail, so 20 s after connecting both are on kiloface (and stay there through the window).
    await alice.page.waitForTimeout(Math.max(0, start + SETTLE_MS - Date.now()));
    for (const p of people) {
      const [active, switches] = [await activeVideo(p.page), await videoSwitches(p.page)];
      console.log(`${mode}: ${active} ${SETTLE_MS / 1000} s after connecting; switches: ${JSON.stringify(switches)}`);
      expect(active).toBe('kiloface');
    }
    if (HAVE_FACE_CLIP) {
      // The first reference crosses the same thin link (and both decoders load): a minute and a half at most.
      for (const p of people) await waitForNeuralFrames(p.page, 1, 90_000);
    }
    // The window measures the call after auto's first trial, which costs the voice the few seconds
    // the link is flooded. That trial waits for 5 s of clean link, which the references crossing
    // this link can put off past 20 s (through the SFU: 31 and 37 s after connecting in a run of
    // 2026-12-07, inside the window: 3.5 and 8.4 % concealed); the next comes a minute later.
    for (const [i, p] of people.entries()) {
      const left = Math.max(1, start + FIRST_TRIAL_BY_MS - Date.now());
      const ended = await p.page
        .waitForFunction(() => (window.kiloface?.video?.switches ?? []).some((s) => s.from === 'both' && s.to === 'kiloface'), undefined, { timeout: left })
        .then(() => true, () => false);
      console.log(`${mode}: ${i === 0 ? 'Alice' : 'Bob'}'s first trial ${ended ? 'over' : 'not over'} ${((Date.now() - start) / 1000).toFixed(0)} s after connecting`);
    }
    if (HAVE_FACE_CLIP) {
      // And the faces move again: a trial's loss can cost a geometry anchor, which a new reference replaces.
      for (const p of people) await waitForNeuralFrames(p.page, (await neuralFramesShown(p.page)) + 1, 30_000);
    }
    const [wireBefore, probes] = await Promise.all([callCounters(alice.page), Promise.all(people.map((p) => startLinkProbe(p.page)))]);
    await alice.page.waitForTimeout(WINDOW_S * 1000);
    const [wireAfter, received] = await Promise.all([callCounters(alice.page), Promise.all(people.map((p, i) => readLinkProbe(p.page, probes[i]!)))]);
    console.log(`${mode}, 32 kbit/s, Alice: ${formatRates(callRates(wireBefore, wireAfter))}`);
    for (const [i, p] of people.entries()) {
      console.log(`${mode}, 32 kbit/s, ${i === 0 ? 'Alice' : 'Bob'} receives: ${formatReception(received[i]!)}`);
      const references = await p.page.evaluate(() => {
        const stats = window.kiloface?.neural?.latestSenderStatus?.stats;
        return stats && { byCause: stats.referencesByCause, resent: stats.referencesResent };
      });
      console.log(`  references made since the call began: ${JSON.stringify(references?.byCause)}; sent again on request: ${references?.resent}`);
      console.log(`  switches: ${JSON.stringify(await videoSwitches(p.page))}`);
    }
    for (const [i, r] of received.entries()) {
      expect(r.audioConcealment).toBeLessThan(MAX_CONCEALMENT);
      if (HAVE_FACE_CLIP) {
        expect(r.geometryPackets / r.seconds).toBeGreaterThan(MIN_GEOMETRY_PACKETS_PER_S);
        expect(r.geometryMaxGapMs).toBeLessThanOrEqual(MAX_GEOMETRY_GAP_MS);
        // What the link adds: the gap this person saw beyond the other's own longest gap in sending.
        expect(r.geometryMaxGapMs).toBeLessThanOrEqual(received[1 - i]!.ownSendMaxGapMs + LINK_GAP_MS);
        // Pictures keep coming too (at the decoder's pace here).
        expect(r.picturesPerSecond).toBeGreaterThan(MIN_PICTURES_PER_S);
      }
    }
    // Still on kiloface: no flapping back to standard video on a link that cannot carry it.
    for (const p of people) expect(await activeVideo(p.page)).toBe('kiloface');
    for (const p of people) await p.context.close();
  }, 240_000);

  // At 128 kbit/s auto's starting trial passes (60 kbit/s of video clean) and standard holds.
  // Measured here: 17-25 fps; audio concealed 9.5-23.8 % P2P while standard's cap followed only the
  // estimate, which overshoots the policed relay; 0.0-3.5 % since it follows loss (2026-12-07; not
  // asserted: the trial's probes still cost some runs a second of voice, see README).
  it('at 128 kbit/s: auto carries standard video', async () => {
    const [alice, bob] = await relayedCall(128);
    await connected(alice, bob);
    // Kiloface first; standard once a trial passed: the call's first (5 s of clean link, then
    // ~6 s), or in some runs the retry a minute later, when WebRTC's estimator overshot the
    // policed relay during the first (loss 25-56 %, seen in CI; video-mode-policy trialAfterMs).
    for (const p of [alice, bob]) await p.page.waitForFunction(() => window.kiloface?.video?.state.active === 'standard', undefined, { timeout: 110_000 }).catch(() => undefined);
    const probes = await Promise.all([alice, bob].map((p) => startLinkProbe(p.page)));
    await alice.page.waitForTimeout(10_000);
    const received = await Promise.all([alice, bob].map((p, i) => readLinkProbe(p.page, probes[i]!)));
    const active = await Promise.all([alice, bob].map((p) => activeVideo(p.page)));
    for (const [i, p] of [alice, bob].entries()) {
      console.log(`${mode}, 128 kbit/s, ${i === 0 ? 'Alice' : 'Bob'} sends ${active[i]}, receives: ${formatReception(received[i]!)}`);
      console.log(`  switches: ${JSON.stringify(await videoSwitches(p.page))}`);
    }
    expect(active).toEqual(['standard', 'standard']);
    for (const r of received) expect(r.videoFps).toBeGreaterThan(0.3);
    for (const p of [alice, bob]) await p.context.close();
  }, 240_000);

  // The link recovers mid-call (our own relay, since coturn's rate is fixed): auto's next trial, a
  // minute of clean link after the drop, passes and standard comes back. P2P only: CI time.
  // Standard came back 70-90 s after the recovery on a quiet machine; with three busy loops beside
  // the browsers (2026-12-07, load 13) late consent checks read as RTT 1.0-2.5 s, each restarting
  // the clean minute, and it took 91 s; a CI run whose other cases all needed their retry missed
  // 120 s twice. Hence RECOVERY_MS.
  it.runIf(mode === 'p2p')('when a 32 kbit/s link recovers to 1 Mbit/s, auto goes back to standard', async () => {
    const [alice, bob, shaper] = await relayedCall(32, true);
    await connected(alice, bob);
    // The call's first trial fails on the thin link: both back on kiloface.
    for (const p of [alice, bob]) {
      await p.page.waitForFunction(() => (window.kiloface?.video?.switches ?? []).some((s) => s.from === 'both' && s.to === 'kiloface'), undefined, { timeout: 40_000 });
    }
    console.log(`${mode}: both on kiloface behind our relay at 32 kbit/s after a failed trial (${shaper!.counts.dropped} datagrams dropped so far)`);
    shaper!.setKbps(1000);
    // Every link sample auto judges from here on, so a failure shows what kept it from trying again.
    for (const p of [alice, bob]) {
      await p.page.evaluate(() => {
        const seen: unknown[] = ((window as unknown as { linkSamples: unknown[] }).linkSamples = []);
        window.kiloface!.video!.on('measured', (_wire, link) => seen.push({ t: Math.round(link.atMs / 100) / 10, ...link }));
      });
    }
    const back = await Promise.all([alice, bob].map((p) => p.page.waitForFunction(() => window.kiloface?.video?.state.active === 'standard', undefined, { timeout: RECOVERY_MS }).then(() => true, () => false)));
    // Printed before the verdict, so a failure shows what auto decided and why.
    for (const [i, p] of [alice, bob].entries()) console.log(`  ${i === 0 ? 'Alice' : 'Bob'}'s switches: ${JSON.stringify(await videoSwitches(p.page))}`);
    console.log(`  relay: ${shaper!.counts.passed} datagrams passed, ${shaper!.counts.dropped} dropped`);
    for (const [i, p] of [alice, bob].entries()) {
      const samples = await p.page.evaluate(() => (window as unknown as { linkSamples: { loss?: number; rttMs?: number }[] }).linkSamples);
      const unclean = samples.filter((s) => (s.loss ?? 0) > CLEAN.trialMaxLoss || (s.rttMs ?? 0) > CLEAN.maxRttMs);
      console.log(`  ${i === 0 ? 'Alice' : 'Bob'}: ${samples.length} link samples after the recovery, ${unclean.length} not clean to auto: ${JSON.stringify(unclean.slice(0, 8))}`);
    }
    expect(back).toEqual([true, true]);
    const probes = await Promise.all([alice, bob].map((p) => startLinkProbe(p.page)));
    await alice.page.waitForTimeout(5000);
    const received = await Promise.all([alice, bob].map((p, i) => readLinkProbe(p.page, probes[i]!)));
    for (const r of received) expect(r.videoFps).toBeGreaterThan(0.3);
    for (const p of [alice, bob]) await p.context.close();
  }, 300_000);
});
