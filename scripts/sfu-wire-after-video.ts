// What Alice's connections send through the SFU before and after standard video, per kind of
// traffic (RTP per kind, keyframe requests and NACKs of each video receiver, datachannel, every
// packet of the transport): for the RTCP a gone video leaves behind (web/call/sfu-session.ts,
// skipProbator). Two people in kiloface mode, both switch to `both` for 12 s and back.
//   npx tsx scripts/sfu-wire-after-video.ts [--dist DIR]    (--dist: another build, e.g. an older commit's)
// Prints per-second rates, keyed "<connection>:<counter>", for three 15 s windows, then each video
// receiver left (SSRC, mid, packets, PLIs, NACKs); the load average with each window.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchChromium } from '../harness/browser.ts';
import { faceCameraY4m } from '../harness/cameras.ts';
import { buildApp, startTestServer } from '../harness/server.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';

const { values } = parseArgs({ options: { dist: { type: 'string' } } });
// Every RTCPeerConnection the page makes, so that the script reads them all.
const KEEP_CONNECTIONS = `(() => { const O = window.RTCPeerConnection; window.__pcs = []; window.RTCPeerConnection = class extends O { constructor(...a) { super(...a); window.__pcs.push(this); } }; })();`;

async function counters(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const out: Record<string, number> = {};
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    // No named helper inside: tsx would wrap it in a __name() call the page does not have.
    for (const [i, pc] of pcs.entries()) {
      if (pc.connectionState === 'closed') continue;
      const found: [string, unknown][] = [];
      (await pc.getStats()).forEach((e) => {
        if (e.type === 'transport') found.push(['transport.packetsSent', e.packetsSent], ['transport.bytesSent', e.bytesSent]);
        if (e.type === 'outbound-rtp') found.push([`out.${e.kind}.packets`, e.packetsSent], [`out.${e.kind}.bytes`, (e.bytesSent ?? 0) + (e.headerBytesSent ?? 0)]);
        if (e.type === 'inbound-rtp') found.push([`in.${e.kind}.packets`, e.packetsReceived], [`in.${e.kind}.nack`, e.nackCount], [`in.${e.kind}.pli`, e.pliCount]);
        if (e.type === 'data-channel') found.push(['dc.messagesSent', e.messagesSent], ['dc.bytesSent', e.bytesSent]);
      });
      for (const [key, v] of found) out[`${i}:${key}`] = (out[`${i}:${key}`] ?? 0) + (typeof v === 'number' ? v : 0);
    }
    return out;
  });
}

async function videoReceivers(page: Page): Promise<unknown[]> {
  return page.evaluate(async () => {
    const out: unknown[] = [];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((e) => {
        if (e.type === 'inbound-rtp' && e.kind === 'video') out.push({ ssrc: e.ssrc, mid: e.mid, packets: e.packetsReceived, pli: e.pliCount, nack: e.nackCount, framesDecoded: e.framesDecoded });
      });
    }
    return out;
  });
}

const sleep = (seconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

if (!values.dist) await buildApp();
const server = await startTestServer({ sfu: { ...DEFAULT_CONFIG.sfu, workers: 1 }, ...(values.dist ? { distDir: path.resolve(values.dist) } : {}) });
const browser = await launchChromium(await faceCameraY4m());
try {
  const room = `after-video-${Date.now()}`;
  const pages: Page[] = [];
  for (const name of ['Alice', 'Bob']) {
    const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
    const page = await context.newPage();
    await page.addInitScript(KEEP_CONNECTIONS);
    await page.goto(`${server.url}/r/${room}?name=${name}&video=kiloface&mode=sfu`);
    pages.push(page);
  }
  const alice = pages[0]!;
  const window_ = async (label: string, seconds: number): Promise<void> => {
    const [a, t0] = [await counters(alice), performance.now()];
    await sleep(seconds);
    const [b, s] = [await counters(alice), (performance.now() - t0) / 1000];
    const rates = Object.fromEntries(Object.keys(b).sort().map((k) => [k, +(((b[k] ?? 0) - (a[k] ?? 0)) / s).toFixed(1)]));
    console.log(`${label} (per second; load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}): ${JSON.stringify(rates)}`);
  };
  await sleep(25);
  await window_('Alice, kiloface, before any video', 15);
  for (const p of pages) await p.evaluate(() => window.kiloface!.video!.setMode('both'));
  await sleep(12);
  for (const p of pages) await p.evaluate(() => window.kiloface!.video!.setMode('kiloface'));
  await sleep(5);
  await window_('Alice, kiloface, after 12 s of video', 15);
  await window_('Alice, kiloface, 15 s later', 15);
  console.log(`Alice's video receivers left: ${JSON.stringify(await videoReceivers(alice))}`);
} finally {
  await browser.close();
  await server.close();
}
