import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mean, readStat, readStatText, remoteFramesShown, REMOTE_TILE, sampleStat, type OpenedPage } from '../../harness/browser.ts';
import { useCall } from './helpers/call-fixture.ts';

let alice: OpenedPage;
let bob: OpenedPage;
const room = `e2e-${Date.now()}`;
/** A session key kept in a file, as the CLI does, so that a restart takes the call back. */
const SESSION_KEY_FILE = path.join(mkdtempSync(path.join(os.tmpdir(), 'kiloface-e2e-')), 'session-key');

/** Waits until the page shows a connected remote tile with a playing picture. */
async function waitForRemoteVideo(opened: OpenedPage): Promise<void> {
  await opened.page.waitForSelector(`${REMOTE_TILE}[data-connection="connected"]`, { timeout: 30_000 });
  await opened.page.waitForFunction(
    (selector) => {
      const video = document.querySelector<HTMLVideoElement>(`${selector} video`);
      return !!video && video.videoWidth > 0 && video.getVideoPlaybackQuality().totalVideoFrames > 5;
    },
    REMOTE_TILE,
    { timeout: 30_000 },
  );
}

describe('P2P call in real Chromium', () => {
  // Mesh only (the fixture's default): with the SFU on, a third person would move the room to the SFU (tests/e2e/sfu-call.test.ts).
  const call = useCall({ config: { sessionKeyFile: SESSION_KEY_FILE } });

  it('two people see and hear each other, and the codec channels carry packets both ways', async () => {
    const started = performance.now();
    // The standard path is under test here: no kiloface streams (tests/e2e/neural-call.test.ts).
    alice = await call.open(`/r/${room}?name=Alice&secret=s3cret&cap=200&neural=off`);
    bob = await call.open(`/r/${room}?name=Bob&secret=s3cret&cap=200&neural=off`);
    await Promise.all([waitForRemoteVideo(alice), waitForRemoteVideo(bob)]);
    // The secret was used (the room is secured: see the wrong-secret test) and taken out of the address and history.
    expect(await alice.page.evaluate(() => location.href)).toBe(`${call.server.url}/r/${room}?name=Alice&cap=200&neural=off`);
    console.log(`connect time (both pages load -> remote video playing): ${Math.round(performance.now() - started)} ms`);

    // Audio: the fake microphone's beep arrives as Opus.
    await bob.page.waitForFunction((sel) => Number.parseFloat(document.querySelector(`${sel} [data-stat="audio-kbps"]`)?.textContent ?? '') > 0, REMOTE_TILE, { timeout: 15_000 });
    expect(await readStatText(bob.page, 'audio-codec')).toBe('opus');
    // The panel refreshes once a second and needs two getStats samples for a rate: poll, do not read once.
    await expect.poll(() => readStat(alice.page, 'video-fps'), { timeout: 10_000 }).toBeGreaterThan(0);

    // The codec's channels, through the PacketLink interface the codec will use.
    const exchange = async (from: OpenedPage, to: OpenedPage): Promise<void> => {
      await to.page.evaluate(() => {
        const w = window as unknown as { received: string[] };
        w.received = [];
        for (const link of window.kiloface!.call!.links()) link.onPacket((channel, packet) => w.received.push(`${channel}:${Array.from(packet).join(',')}`));
      });
      await from.page.waitForFunction(() => window.kiloface?.call?.links()[0]?.isOpen === true);
      await from.page.evaluate(() => {
        const link = window.kiloface!.call!.links()[0]!;
        for (let i = 0; i < 20; i++) link.send('frames', new Uint8Array([1, i]));
        link.send('control', new Uint8Array([2, 42, 7]));
      });
      await to.page.waitForFunction(() => (window as unknown as { received: string[] }).received.includes('control:2,42,7'), undefined, { timeout: 5000 });
      // Frames ride the next audio packets (or the datachannel when none comes): they may land after
      // the control packet. Loopback loses nothing in practice, but frames may be lost; most must arrive.
      await to.page
        .waitForFunction(() => (window as unknown as { received: string[] }).received.filter((r) => r.startsWith('frames:1,')).length >= 18, undefined, { timeout: 5000 })
        .catch(() => undefined);
      const received = await to.page.evaluate(() => (window as unknown as { received: string[] }).received);
      expect(received.filter((r) => r.startsWith('frames:1,')).length).toBeGreaterThanOrEqual(18);
    };
    await exchange(alice, bob);
    await exchange(bob, alice);
  });

  it('keeps the video under the chosen cap (50 kbit/s)', async () => {
    await alice.page.selectOption('select[name="cap"]', '50');
    await alice.page.waitForTimeout(4000); // let the encoder settle on the new target
    const [sent, received] = await Promise.all([sampleStat(alice.page, 'video-send-kbps', 8), sampleStat(bob.page, 'video-kbps', 8)]);
    console.log(`cap 50: sent ${mean(sent).toFixed(1)} kbit/s, received ${mean(received).toFixed(1)} kbit/s (codec ${await readStatText(bob.page, 'video-codec')})`);
    expect(mean(received)).toBeGreaterThan(5);
    expect(mean(received)).toBeLessThan(60);
    expect(Math.max(...received)).toBeLessThan(90);
  });

  it('switches the codec it sends when the user picks another', async () => {
    await alice.page.selectOption('select[name="codec"]', 'VP9');
    await bob.page.waitForFunction((sel) => document.querySelector(`${sel} [data-stat="video-codec"]`)?.textContent === 'VP9', REMOTE_TILE, { timeout: 15_000 });
    // Alice's own panel may refresh up to a second after Bob's.
    await expect.poll(() => readStatText(alice.page, 'video-send-codec'), { timeout: 5000 }).toBe('VP9');
  });

  it('refuses a third person with the wrong secret, and the call goes on', async () => {
    const mallory = await call.open(`/r/${room}?name=Mallory&secret=wrong`);
    await mallory.page.waitForSelector('form.join .error:has-text("secret")', { timeout: 15_000 });
    expect(await alice.page.locator(REMOTE_TILE).count()).toBe(1);
    await mallory.context.close();
  });

  it('answers garbage on the signalling socket with errors, and the call goes on', async () => {
    const socket = new WebSocket(`${call.server.url.replace('http', 'ws')}/ws`);
    const replies: { type: string; code?: string }[] = [];
    socket.on('message', (data) => replies.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));
    const garbage = ['not json', '[]', '{"type":"join"}', '{"type":"signal","to":"x","data":1}', JSON.stringify({ type: 'join', room, name: 'x'.repeat(500) }), Buffer.from([0, 1, 2])];
    for (const message of garbage) socket.send(message);
    socket.send(JSON.stringify({ type: 'signal', to: 'A'.repeat(16), data: { x: 'y'.repeat(70_000) } }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(replies.map((r) => r.code)).toEqual(['bad-json', 'bad-message', 'bad-message', 'bad-message', 'bad-message', 'bad-message', 'too-large']);
    socket.close();

    const before = await remoteFramesShown(bob.page);
    await bob.page.waitForTimeout(1500);
    expect(await remoteFramesShown(bob.page)).toBeGreaterThan(before + 10);
    const health = (await (await fetch(`${call.server.url}/healthz`)).json()) as { ok: boolean; peers: number };
    expect(health).toMatchObject({ ok: true, peers: 2 });
  });

  it('rejoins by itself after the signalling socket drops, without breaking the media', async () => {
    await alice.page.evaluate(() => window.kiloface!.call!.dropSignalling());
    await alice.page.waitForSelector('[data-role="signalling"][data-state="reconnecting"]', { timeout: 5000 });
    await alice.page.waitForSelector('[data-role="signalling"][data-state="open"]', { timeout: 15_000 });
    const before = await remoteFramesShown(bob.page);
    await bob.page.waitForTimeout(1500);
    expect(await remoteFramesShown(bob.page)).toBeGreaterThan(before + 10);
    expect(await alice.page.locator(REMOTE_TILE).count()).toBe(1);
  });

  it('survives a restart of the server: both people are seated again under their ids and the P2P connection is not rebuilt', async () => {
    const ids = async () => Promise.all([alice, bob].map((p) => p.page.evaluate(() => ({ self: window.kiloface!.call!.self!.id, connection: [...window.kiloface!.call!.peers.values()][0]!.connectionId }))));
    const before = await ids();
    await call.restartServer(async () => {
      for (const p of [alice, bob]) await p.page.waitForSelector('[data-role="signalling"][data-state="reconnecting"]', { timeout: 10_000 });
    });
    for (const p of [alice, bob]) await p.page.waitForSelector('[data-role="signalling"][data-state="open"]', { timeout: 30_000 });
    expect(await ids()).toEqual(before);
    const frames = await remoteFramesShown(bob.page);
    await bob.page.waitForTimeout(1500);
    expect(await remoteFramesShown(bob.page)).toBeGreaterThan(frames + 10);
    for (const p of [alice, bob]) expect(await p.page.locator(REMOTE_TILE).count()).toBe(1);
    // Signalling works again: a relayed peer-state change arrives.
    await bob.page.click('[data-role="mute"]');
    await alice.page.locator(`${REMOTE_TILE} [data-role="badges"]`, { hasText: 'muted' }).waitFor({ timeout: 10_000 });
    await bob.page.click('[data-role="mute"]');
  });

  it('re-establishes a peer connection that failed', async () => {
    const before = await bob.page.evaluate(() => [...window.kiloface!.call!.peers.values()][0]!.connectionId);
    await alice.page.evaluate(() => [...window.kiloface!.call!.peers.values()][0]!.pc.close());
    await bob.page.waitForFunction(
      (old) => {
        const peer = [...window.kiloface!.call!.peers.values()][0];
        return !!peer && peer.connectionId !== old && peer.connected;
      },
      before,
      { timeout: 20_000 },
    );
    await waitForRemoteVideo(alice);
    await waitForRemoteVideo(bob);
  });

  it('takes a third person into the mesh (and says the server has no SFU); mute and camera-off show on the others\' tiles; leaving removes the tile', async () => {
    const carol = await call.open(`/r/${room}?name=Carol&secret=s3cret&neural=off`);
    // This server has no SFU: the mesh is said, to the newcomer and to those already in.
    for (const p of [carol, alice]) await p.page.locator('.notices .notice', { hasText: 'runs without its SFU' }).waitFor({ timeout: 10_000 });
    await carol.page.waitForFunction((sel) => document.querySelectorAll(`${sel}[data-connection="connected"]`).length === 2, REMOTE_TILE, { timeout: 30_000 });
    await alice.page.waitForFunction((sel) => document.querySelectorAll(`${sel}[data-connection="connected"]`).length === 2, REMOTE_TILE, { timeout: 30_000 });
    await carol.page.click('[data-role="mute"]');
    await carol.page.click('[data-role="camera"]');
    const carolOnAlice = alice.page.locator(`${REMOTE_TILE}:has-text("Carol") [data-role="badges"]`);
    await carolOnAlice.filter({ hasText: 'muted · camera off' }).waitFor({ timeout: 10_000 });
    await carol.page.click('[data-role="leave"]');
    await alice.page.waitForFunction((sel) => document.querySelectorAll(sel).length === 1, REMOTE_TILE, { timeout: 10_000 });
    await carol.context.close();
  });
});
