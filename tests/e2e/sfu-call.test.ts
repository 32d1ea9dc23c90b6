import { PacketType, writePacket } from '../../codec/bitstream/packet.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { REMOTE_TILE, type OpenedPage } from '../../harness/browser.ts';
import { useCall } from './helpers/call-fixture.ts';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const people: OpenedPage[] = [];
const room = `sfu-${Date.now()}`;

/** Every remote tile connected, its video playing, for `count` remote people. */
async function waitForRemotes(opened: OpenedPage, count: number, timeout = 45_000): Promise<void> {
  await opened.page.waitForFunction(
    ({ selector, count }) => {
      const tiles = [...document.querySelectorAll(`${selector}[data-connection="connected"]`)];
      return (
        tiles.length === count &&
        tiles.every((tile) => {
          const video = tile.querySelector('video');
          return !!video && video.videoWidth > 0 && video.getVideoPlaybackQuality().totalVideoFrames > 3;
        })
      );
    },
    { selector: REMOTE_TILE, count },
    { timeout },
  );
}

/** Frames each remote video has shown so far, by peer id. */
async function framesByPeer(opened: OpenedPage): Promise<Record<string, number>> {
  return opened.page.evaluate((selector) => {
    const out: Record<string, number> = {};
    for (const tile of document.querySelectorAll<HTMLElement>(selector)) out[tile.dataset.peer!] = tile.querySelector('video')!.getVideoPlaybackQuality().totalVideoFrames;
    return out;
  }, REMOTE_TILE);
}

async function expectAllMoving(): Promise<void> {
  const before = await Promise.all(people.map(framesByPeer));
  await people[0]!.page.waitForTimeout(1500);
  const after = await Promise.all(people.map(framesByPeer));
  people.forEach((_, i) => {
    const ids = Object.keys(before[i]!);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(after[i]![id]! - before[i]![id]!, `person ${i}, video from ${id}`).toBeGreaterThan(5);
  });
}

describe('SFU call in real Chromium (mediasoup, two workers)', () => {
  // Two peers per router: the third person lands on the second worker, joined by pipeToRouter.
  const call = useCall({ sfu: { workers: 2, peersPerRouter: 2 }, config: { adminToken: ADMIN_TOKEN } });
  beforeAll(() => {
    if (!call.server.sfu) throw new Error('the SFU did not start (is the mediasoup worker built? npm run build:mediasoup-worker)');
  });

  it('three people each receive the other two: audio, video and codec datachannel messages', async () => {
    // The SFU's own transport is under test: no kiloface streams (tests/e2e/neural-call.test.ts
    // covers them, through the SFU too), so three people's trackers and decoders do not crowd
    // the 2-core machine while packet counts are checked.
    for (const name of ['Ann', 'Ben', 'Cat']) people.push(await call.open(`/r/${room}?name=${name}&neural=off`));
    await Promise.all(people.map((p) => waitForRemotes(p, 2)));
    for (const p of people) expect(await p.page.getAttribute('[data-role="mode"]', 'data-mode')).toBe('sfu');

    const stats = (await (await fetch(`${call.server.url}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as {
      sfu: { rooms: { workers: number[]; routers: number; peers: { producers: unknown[]; consumers: { kind: string }[] }[] }[] };
    };
    const sfuRoom = stats.sfu.rooms[0]!;
    expect(sfuRoom.routers).toBe(2);
    expect(new Set(sfuRoom.workers).size).toBe(2);
    for (const peer of sfuRoom.peers) expect(peer.consumers.filter((c) => c.kind === 'audio')).toHaveLength(2);

    // Audio arrives from both others.
    for (const p of people) {
      await p.page.waitForFunction(
        (sel) => [...document.querySelectorAll(`${sel} [data-stat="audio-kbps"]`)].every((cell) => Number.parseFloat(cell.textContent ?? '') > 0),
        REMOTE_TILE,
        { timeout: 15_000 },
      );
    }

    // Codec packets: each person broadcasts on both channels; each receives from both others.
    for (const p of people) {
      await p.page.evaluate(() => {
        const w = window as unknown as { received: string[] };
        w.received = [];
        // Frames: the marker is the first byte; control: the reference id of a codec packet (the server reads those).
        for (const link of window.kiloface!.call!.participants()) link.onPacket((channel, packet) => w.received.push(`${link.peerId}:${channel}:${channel === 'control' ? packet[5] : packet[0]}`));
      });
    }
    for (const p of people) await p.page.waitForFunction(() => window.kiloface!.call!.links().length === 2, undefined, { timeout: 15_000 });
    for (const [i, p] of people.entries()) {
      // On `control` the SFU relays codec packets only (server/sfu/control-relay.ts): an anchor, to everyone.
      const anchor = [...writePacket({ type: PacketType.GeometryAnchor, sequence: 1, timestampMs: 0, referenceId: i + 1 }, new Uint8Array([0]))];
      await p.page.evaluate(
        ({ marker, anchor }) => {
          const call = window.kiloface!.call!;
          for (let k = 0; k < 10; k++) call.broadcast('frames', new Uint8Array([marker]));
          call.broadcast('control', new Uint8Array(anchor));
        },
        { marker: i + 1, anchor },
      );
    }
    for (const [i, p] of people.entries()) {
      const others = [1, 2, 3].filter((m) => m !== i + 1);
      await p.page.waitForFunction(
        (markers) => markers.every((m) => (window as unknown as { received: string[] }).received.some((r) => r.endsWith(`:control:${m}`))),
        others,
        { timeout: 10_000 },
      );
      // Frames ride the next audio packets (or the datachannel): they may land after the control packet.
      await p.page
        .waitForFunction((markers) => markers.every((m) => (window as unknown as { received: string[] }).received.filter((r) => r.endsWith(`:frames:${m}`)).length >= 8), others, { timeout: 5000 })
        .catch(() => undefined);
      const received = await p.page.evaluate(() => (window as unknown as { received: string[] }).received);
      for (const m of others) expect(received.filter((r) => r.endsWith(`:frames:${m}`)).length).toBeGreaterThanOrEqual(8);
    }
    await expectAllMoving();
  });

  it('notices a worker killed mid-call and recovers the room on a live worker', async () => {
    const victim = call.server.sfu!.pool.workers.find((w) => w.load > 0)!;
    process.kill(victim.worker.pid!, 'SIGKILL');
    await people[0]!.page.waitForTimeout(1000);
    await Promise.all(people.map((p) => waitForRemotes(p, 2, 60_000)));
    await expectAllMoving();
  });

  it('survives garbage on every endpoint', async () => {
    const bad = await fetch(`${call.server.url}/admin/stats`, { headers: { authorization: 'Bearer wrong' } });
    expect(bad.status).toBe(401);
    expect((await fetch(`${call.server.url}/admin/stats`)).status).toBe(401);
    expect((await fetch(`${call.server.url}/%00%ff/../../x`)).status).toBe(404);
    const socket = new WebSocket(`${call.server.url.replace('http', 'ws')}/ws`);
    const replies: { type: string; code?: string; ok?: boolean; error?: string }[] = [];
    socket.on('message', (data) => replies.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'sfu', id: 1, method: 'produce', data: {} }));
    socket.send(JSON.stringify({ type: 'join', room, name: 'Eve' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const [i, data] of [{}, { transportId: 'nope' }, { kind: 'video', transportId: 5, rtpParameters: 'x' }, { direction: 'sideways' }].entries()) {
      socket.send(JSON.stringify({ type: 'sfu', id: 10 + i, method: i === 3 ? 'create-transport' : 'produce', data }));
    }
    socket.send(JSON.stringify({ type: 'sfu', id: 20, method: 'router-capabilities', data: {} }));
    socket.send(JSON.stringify({ type: 'sfu', id: 21, method: 'create-transport', data: { direction: 'send' } }));
    socket.send(JSON.stringify({ type: 'sfu', id: 22, method: 'connect-transport', data: { transportId: 'x', dtlsParameters: { role: 'server', fingerprints: [] } } }));
    socket.send(JSON.stringify({ type: 'sfu', id: 23, method: 'ready', data: { rtpCapabilities: { codecs: 'garbage' } } }));
    socket.send(JSON.stringify({ type: 'sfu', id: 24, method: 'explode', data: {} }));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(replies.find((r) => r.type === 'error')?.code).toBe('not-joined');
    const responses = replies.filter((r) => r.type === 'sfu-response');
    expect(responses.filter((r) => r.ok === false).length).toBeGreaterThanOrEqual(5);
    expect(replies.some((r) => r.type === 'error' && r.code === 'bad-message')).toBe(true);
    // Leave properly: a dropped socket keeps its seat for the resume grace period.
    socket.send(JSON.stringify({ type: 'leave' }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    socket.close();
    await expectAllMoving();
  });

  it('goes back to P2P without a reload when the room drops to two', async () => {
    const leaver = people.pop()!;
    await leaver.page.click('[data-role="leave"]');
    for (const p of people) await p.page.waitForSelector('[data-role="mode"][data-mode="p2p"]', { timeout: 10_000 });
    await Promise.all(people.map((p) => waitForRemotes(p, 1)));
    await leaver.context.close();
  });
});
