// What one person receives over a constrained link, for tests/e2e/constrained-link.test.ts and
// scripts/measure-link.ts alike: audio concealment and standard-video freezes from the receiver's
// inbound-rtp stats, kiloface geometry as it arrives (every packet on the codec's `frames` channel)
// and rebuilt pictures as the remote tile shows them, and what `auto` switched to and when.
import type { Page } from 'playwright-core';
import { REMOTE_TILE } from './browser.ts';

/** The receiver's media counters, summed over every connection of the call. */
interface MediaCounters {
  atMs: number;
  concealedSamples: number;
  totalSamplesReceived: number;
  framesDecoded: number;
  freezeCount: number;
  totalFreezesDuration: number;
}

async function mediaCounters(page: Page): Promise<MediaCounters> {
  // No named functions inside evaluate: tsx (esbuild keepNames) wraps them in a helper the page lacks.
  return page.evaluate(async () => {
    const out = { atMs: performance.now(), concealedSamples: 0, totalSamplesReceived: 0, framesDecoded: 0, freezeCount: 0, totalFreezesDuration: 0 };
    for (const connection of await window.kiloface!.call!.connectionStats()) {
      for (const e of connection.snapshot.values() as Iterable<Record<string, unknown>>) {
        if (e.type !== 'inbound-rtp') continue;
        const fields = e.kind === 'audio' ? (['concealedSamples', 'totalSamplesReceived'] as const) : (['framesDecoded', 'freezeCount', 'totalFreezesDuration'] as const);
        for (const field of fields) if (typeof e[field] === 'number') out[field] += e[field];
      }
    }
    return out;
  });
}

interface ProbeGlobal {
  startMs: number;
  geometry: number[];
  pictures: number[];
  lastFrames: number;
  /** The page's own sender: the longest wall-clock time between geometry packets it sent. */
  sendMaxGapMs: number;
  stopStatus: (() => void) | undefined;
  timer: ReturnType<typeof setInterval>;
}

/**
 * Starts recording in the page: the arrival time of every kiloface `frames` packet from any peer
 * (hooked on the links open now, and on links that open later), and the time each new rebuilt
 * picture appears on the remote tile's canvas (polled every 20 ms: pictures come at a few per second).
 */
export async function startLinkProbe(page: Page): Promise<{ media: MediaCounters }> {
  await page.evaluate((tile) => {
    const w = window as unknown as { __linkProbe?: ProbeGlobal };
    if (w.__linkProbe) {
      clearInterval(w.__linkProbe.timer);
      w.__linkProbe.stopStatus?.();
    }
    const call = window.kiloface!.call!;
    const probe: ProbeGlobal = { startMs: performance.now(), geometry: [], pictures: [], lastFrames: -1, sendMaxGapMs: 0, stopStatus: undefined, timer: 0 as unknown as ReturnType<typeof setInterval> };
    const neural = window.kiloface!.neural;
    if (neural) probe.stopStatus = neural.on('sender-status', (status) => (probe.sendMaxGapMs = Math.max(probe.sendMaxGapMs, status.maxSendGapMs)));
    const hooked = new WeakSet<object>();
    probe.timer = setInterval(() => {
      // Links open now, and any that open later (a reconnect).
      for (const link of call.links()) {
        if (hooked.has(link)) continue;
        hooked.add(link);
        link.onPacket((channel) => {
          if (channel === 'frames' && w.__linkProbe === probe) probe.geometry.push(performance.now());
        });
      }
      const frames = Number(document.querySelector<HTMLCanvasElement>(`${tile} canvas[data-role="neural-canvas"]`)?.dataset.frames ?? 0);
      if (probe.lastFrames >= 0 && frames > probe.lastFrames) probe.pictures.push(performance.now());
      probe.lastFrames = frames;
    }, 20);
    w.__linkProbe = probe;
  }, REMOTE_TILE);
  return { media: await mediaCounters(page) };
}

export interface LinkReception {
  seconds: number;
  /** concealedSamples / totalSamplesReceived over the window, 0..1 (NaN without audio). */
  audioConcealment: number;
  /** Standard video: frames decoded per second, freezes and their total length in the window. */
  videoFps: number;
  freezes: number;
  freezeSeconds: number;
  /** kiloface geometry packets received, and the longest time without one (window edges count). */
  geometryPackets: number;
  geometryMaxGapMs: number;
  /** This page's own sender: its longest time between two geometry packets (a gap that starts there, not on the link). */
  ownSendMaxGapMs: number;
  /** Rebuilt pictures shown per second, and the longest time without a new one (window edges count). */
  picturesPerSecond: number;
  pictureMaxGapMs: number;
}

/** Longest interval between consecutive times, counting from the window's start to its end. */
function maxGap(times: number[], startMs: number, endMs: number): number {
  let previous = startMs;
  let gap = 0;
  for (const t of [...times, endMs]) {
    gap = Math.max(gap, t - previous);
    previous = t;
  }
  return gap;
}

/** What arrived since startLinkProbe (which it stops). */
export async function readLinkProbe(page: Page, start: { media: MediaCounters }): Promise<LinkReception> {
  const probe = await page.evaluate(() => {
    const w = window as unknown as { __linkProbe?: ProbeGlobal };
    const p = w.__linkProbe!;
    clearInterval(p.timer);
    p.stopStatus?.();
    w.__linkProbe = undefined;
    return { startMs: p.startMs, endMs: performance.now(), geometry: p.geometry, pictures: p.pictures, sendMaxGapMs: p.sendMaxGapMs };
  });
  const a = start.media;
  const b = await mediaCounters(page);
  const seconds = (probe.endMs - probe.startMs) / 1000;
  const samples = b.totalSamplesReceived - a.totalSamplesReceived;
  return {
    seconds,
    audioConcealment: samples > 0 ? (b.concealedSamples - a.concealedSamples) / samples : Number.NaN,
    videoFps: (b.framesDecoded - a.framesDecoded) / ((b.atMs - a.atMs) / 1000),
    freezes: b.freezeCount - a.freezeCount,
    freezeSeconds: b.totalFreezesDuration - a.totalFreezesDuration,
    geometryPackets: probe.geometry.length,
    geometryMaxGapMs: maxGap(probe.geometry, probe.startMs, probe.endMs),
    ownSendMaxGapMs: probe.sendMaxGapMs,
    picturesPerSecond: probe.pictures.length / seconds,
    pictureMaxGapMs: maxGap(probe.pictures, probe.startMs, probe.endMs),
  };
}

export interface AutoSwitch {
  /** Seconds since the page joined the call (page load). */
  atSeconds: number;
  from: string;
  to: string;
  reason: string;
}

/** The switches the sender's video-mode controller made, timed from the page's start. */
export async function videoSwitches(page: Page): Promise<AutoSwitch[]> {
  return page.evaluate(() =>
    (window.kiloface?.video?.switches ?? []).map((s) => ({ atSeconds: (s.atEpochMs - performance.timeOrigin) / 1000, from: s.from, to: s.to, reason: s.reason })),
  );
}

/** What the sender sends now (kiloface / standard / both / none). */
export async function activeVideo(page: Page): Promise<string> {
  return page.evaluate(() => window.kiloface?.video?.state.active ?? '?');
}

export function formatReception(r: LinkReception): string {
  const ms = (v: number): string => `${(v / 1000).toFixed(1)} s`;
  return (
    `audio concealed ${(r.audioConcealment * 100).toFixed(1)}%; standard video ${r.videoFps.toFixed(1)} fps, ${r.freezes} freezes (${r.freezeSeconds.toFixed(1)} s); ` +
    `kiloface ${r.geometryPackets} geometry packets (longest gap ${ms(r.geometryMaxGapMs)}; own sender's ${ms(r.ownSendMaxGapMs)}), ${r.picturesPerSecond.toFixed(1)} pictures/s (longest gap ${ms(r.pictureMaxGapMs)}) over ${r.seconds.toFixed(1)} s`
  );
}
