import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import type { RunningServer } from '../../server/app.ts';
import type { IceServerConfig, ServerMessage } from '../../protocol/signalling.ts';
import { turnIceServer, type TurnConfig } from '../../server/turn-credentials.ts';
import { REMOTE_TILE } from '../../harness/browser.ts';
import { startCoturn, type Coturn } from '../../harness/coturn.ts';
import { startTestServer } from '../../harness/server.ts';
import { useCall } from './helpers/call-fixture.ts';

// Calls through Debian's coturn with the TURN REST API's short-lived credentials (issue 16 item 6):
// the server hands each person a credential of their own, `?ice=relay` forces relayed candidates,
// and coturn refuses a credential past its expiry.
const TTL_SECONDS = 600;

/** Gathers ICE candidates in the page with these servers, relayed only: relay candidates found and the errors reported. */
function gatherRelay(page: Page, iceServers: IceServerConfig[]): Promise<{ relay: number; errors: number[] }> {
  return page.evaluate(async (servers) => {
    const pc = new RTCPeerConnection({ iceServers: servers as RTCIceServer[], iceTransportPolicy: 'relay' });
    const result = { relay: 0, errors: [] as number[] };
    pc.addEventListener('icecandidate', (event) => {
      if (event.candidate?.type === 'relay') result.relay++;
    });
    pc.addEventListener('icecandidateerror', (event) => result.errors.push((event as RTCPeerConnectionIceErrorEvent).errorCode));
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    pc.close();
    return result;
  }, iceServers);
}

/** The candidate types of the pair the first participant's connection selected, and its bytes received. */
/** The selected candidate pair of the call's connection that receives the most (P2P: the peer; SFU: the receive transport). */
function selectedPair(page: Page): Promise<{ local: unknown; remote: unknown; relayProtocol: unknown; bytesReceived: number }> {
  return page.evaluate(async () => {
    let best = { local: undefined as unknown, remote: undefined as unknown, relayProtocol: undefined as unknown, bytesReceived: -1 };
    for (const { snapshot } of await window.kiloface!.call!.connectionStats()) {
      const entries = [...snapshot.values()] as Record<string, unknown>[];
      const transport = entries.find((e) => e.type === 'transport' && e.selectedCandidatePairId);
      const pair = entries.find((e) => e.id === transport?.selectedCandidatePairId);
      const local = entries.find((e) => e.id === pair?.localCandidateId);
      const remote = entries.find((e) => e.id === pair?.remoteCandidateId);
      const bytesReceived = Number(pair?.bytesReceived ?? 0);
      if (pair && bytesReceived > best.bytesReceived) best = { local: local?.candidateType, remote: remote?.candidateType, relayProtocol: local?.relayProtocol, bytesReceived };
    }
    return { ...best, bytesReceived: Math.max(0, best.bytesReceived) };
  });
}

/** The ICE servers the signalling server's welcome hands to someone who joins `room`. */
async function welcomeIceServers(url: string, room: string): Promise<IceServerConfig[]> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`);
  try {
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const welcome = new Promise<Extract<ServerMessage, { type: 'welcome' }>>((resolve) =>
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as ServerMessage;
        if (message.type === 'welcome') resolve(message);
      }),
    );
    socket.send(JSON.stringify({ type: 'join', room, name: 'probe' }));
    return (await welcome).iceServers;
  } finally {
    socket.close();
  }
}

describe('calls through a TURN relay (coturn, short-lived credentials)', () => {
  let coturn: Coturn;
  let turn: TurnConfig;
  /** One with the SFU, started by the SFU case; the fixture's server is P2P only. */
  let sfuServer: RunningServer | undefined;

  beforeAll(async () => {
    coturn = await startCoturn();
    turn = { urls: [coturn.url], secret: coturn.secret, ttlSeconds: TTL_SECONDS };
  });
  // Registered before the fixture's hooks: runs after the browser and the server are closed.
  afterAll(async () => {
    await sfuServer?.close();
    if (coturn?.log.some((line) => /error/i.test(line))) console.log(`coturn:\n${coturn.log.slice(-20).join('\n')}`);
    await coturn?.close();
  });
  const call = useCall({ config: () => ({ turn }) });

  it('hands each person a credential of their own that expires, never the shared secret', async () => {
    const room = `turn-welcome-${Date.now()}`;
    const before = Math.floor(Date.now() / 1000);
    const [a, b] = [await welcomeIceServers(call.server.url, room), await welcomeIceServers(call.server.url, room)];
    const turnA = a.find((s) => String(s.urls).startsWith('turn:'))!;
    const turnB = b.find((s) => String(s.urls).startsWith('turn:'))!;
    expect(turnA.urls).toEqual([coturn.url]);
    const expiry = Number(turnA.username!.split(':')[0]);
    expect(expiry).toBeGreaterThanOrEqual(before + TTL_SECONDS);
    expect(expiry).toBeLessThanOrEqual(before + TTL_SECONDS + 5);
    expect(turnA.username).not.toBe(turnB.username);
    expect(JSON.stringify([a, b])).not.toContain(coturn.secret);
  });

  // Through the SFU the browsers' relayed candidates reach mediasoup's loopback address (coturn's
  // allow-loopback-peers); mediasoup itself needs no TURN.
  it.each(['p2p', 'sfu'] as const)('connects a %s call with ?ice=relay through coturn: the selected candidate pair is relayed', async (mode) => {
    const room = `turn-${mode}-${Date.now()}`;
    const serverOf = mode === 'sfu' ? (sfuServer ??= await startTestServer({ turn })) : call.server;
    const query = `cap=30&neural=off&ice=relay${mode === 'sfu' ? '&mode=sfu' : ''}`;
    const alice = await call.openPage(`${serverOf.url}/r/${room}?name=Alice&${query}`);
    const bob = await call.openPage(`${serverOf.url}/r/${room}?name=Bob&${query}`);
    for (const { page } of [alice, bob]) {
      await page.waitForFunction((sel) => (document.querySelector<HTMLVideoElement>(`${sel} video`)?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > 5, REMOTE_TILE, { timeout: 45_000 });
    }
    // The room really is where this case says (without a mediasoup worker the server stays P2P).
    expect(await alice.page.evaluate(() => window.kiloface!.call!.mode)).toBe(mode);
    const selected = await selectedPair(alice.page);
    await alice.page.waitForTimeout(2000);
    const later = await selectedPair(alice.page);
    console.log(`${mode}: selected candidate pair ${JSON.stringify(selected)}`);
    expect(selected.local).toBe('relay');
    // P2P: both ends relayed. SFU: mediasoup's own (host) candidate, reached through our relay.
    expect(selected.remote).toBe(mode === 'p2p' ? 'relay' : 'host');
    // Media keeps arriving on that pair (the only kind of pair the policy allows).
    expect(later.bytesReceived - selected.bytesReceived).toBeGreaterThan(1000);
  });

  it('coturn refuses a credential past its expiry (and takes a fresh one)', async () => {
    const page = call.pages[0]?.page ?? (await call.open('/')).page;
    const shortLived = { ...turn, ttlSeconds: 60 };
    const fresh = await gatherRelay(page, [turnIceServer(shortLived, 'probe')]);
    // Made 2 minutes ago with a 1-minute lifetime: it expired a minute ago.
    const expired = await gatherRelay(page, [turnIceServer(shortLived, 'probe', Date.now() - 120_000)]);
    console.log(`fresh credential: ${JSON.stringify(fresh)}; expired: ${JSON.stringify(expired)}`);
    expect(fresh.relay).toBeGreaterThan(0);
    expect(expired.relay).toBe(0);
    expect(expired.errors).toContain(401);
  });
});
