// Hostile SFU requests against the real server and a real mediasoup worker (issue 13): one bad
// request costs that request only; repeated requests and unconnected transports stay bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app.ts';
import { startQuietServer } from './helpers/server.ts';
import { DEFAULT_CONFIG } from '../../../server/config.ts';
import type { ServerMessage } from '../../../protocol/signalling.ts';
import { SignallingTestClient } from './helpers/signalling-client.ts';

const TRANSPORT_TIMEOUT_MS = 1500;
const TRANSPORTS_PER_ADDRESS = 6;

let server: RunningServer;

beforeAll(async () => {
  server = await startQuietServer({
    sfu: { ...DEFAULT_CONFIG.sfu, workers: 1, transportConnectTimeoutMs: TRANSPORT_TIMEOUT_MS, maxTransportsPerAddress: TRANSPORTS_PER_ADDRESS },
  });
  if (!server.sfu) throw new Error('the SFU did not start: build the mediasoup worker (npm run build:mediasoup-worker)');
}, 60_000);
afterAll(() => server.close(), 30_000);

type SfuReply = Extract<ServerMessage, { type: 'sfu-response' }>;

/** A peer in an SFU room that speaks the SFU protocol by hand. */
class SfuClient extends SignallingTestClient {
  private nextId = 1;

  constructor() {
    super(`${server.url.replace('http', 'ws')}/ws`);
  }

  async request(method: string, data: unknown = {}): Promise<SfuReply> {
    const id = this.nextId++;
    this.send({ type: 'sfu', id, method, data });
    for (;;) {
      const reply = await this.next('sfu-response', 10_000);
      if (reply.id === id) return reply;
    }
  }

  async ok(method: string, data: unknown = {}): Promise<Record<string, unknown>> {
    const reply = await this.request(method, data);
    if (!reply.ok) throw new Error(`${method} failed: ${reply.error}`);
    return reply.data as Record<string, unknown>;
  }

  /** Leaves for good (a dropped socket would keep its seat and transports for the resume grace). */
  leave(): void {
    this.send({ type: 'leave' });
    this.socket.close();
  }

  /** Joins an SFU room and asks for the router's capabilities; returns them. */
  async enter(room: string, name: string): Promise<unknown> {
    await this.join(room, name, { mode: 'sfu' });
    return (await this.ok('router-capabilities')).rtpCapabilities;
  }
}

const opusParameters = (ssrc: number, encoding: Record<string, unknown> = {}) => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
  headerExtensions: [],
  encodings: [{ ssrc, ...encoding }],
  rtcp: { cname: 'hardening-test' },
});

/** The server's own view of a room's SFU peers. */
function sfuPeers(room: string) {
  return [...(server.sfu!.rooms.get(room)?.peers.values() ?? [])];
}

describe('SFU requests are checked before mediasoup sees them', () => {
  it('refuses produce with maxBitrate {} and the worker keeps serving', async () => {
    const a = new SfuClient();
    await a.enter('poison', 'A');
    const send = await a.ok('create-transport', { direction: 'send' });
    const bad = await a.request('produce', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(1, { maxBitrate: {} }) });
    expect(bad).toMatchObject({ ok: false });
    expect((bad as { error: string }).error).toMatch(/maxBitrate/);
    // The same worker must still serialise requests: before the fix every later one failed with
    // "FlatBuffers: object serialization must not be nested".
    const recv = await a.request('create-transport', { direction: 'recv' });
    expect(recv).toMatchObject({ ok: true });
    expect(await a.request('produce', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(2, { maxBitrate: 12000 }) })).toMatchObject({ ok: true });
    a.leave();
  });

  it('refuses wrong shapes in every method with a message naming the field', async () => {
    const a = new SfuClient();
    await a.enter('shapes', 'A');
    const send = await a.ok('create-transport', { direction: 'send' });
    const cases: [string, unknown, RegExp][] = [
      ['create-transport', { direction: 'sideways' }, /direction/],
      ['connect-transport', { transportId: send.id, dtlsParameters: { fingerprints: [{ algorithm: 'md5', value: 'AB' }] } }, /algorithm/],
      ['connect-transport', { transportId: send.id, dtlsParameters: { fingerprints: 'x' } }, /fingerprints/],
      ['produce', { transportId: send.id, kind: 'audio', rtpParameters: { ...opusParameters(3), headerExtensions: [{ uri: 'urn:evil', id: 1 }] } }, /uri/],
      ['produce', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(2 ** 40) }, /ssrc/],
      ['produce-data', { transportId: send.id, sctpStreamParameters: { streamId: -1 } }, /streamId/],
      ['ready', { rtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 1e9, clockRate: 48000 }] } }, /preferredPayloadType/],
      ['resume-consumer', { consumerId: { $ne: 1 } }, /consumerId/],
    ];
    for (const [method, data, field] of cases) {
      const reply = await a.request(method, data);
      expect(reply, method).toMatchObject({ ok: false });
      expect((reply as { error: string }).error, method).toMatch(field);
    }
    expect(await a.request('create-transport', { direction: 'recv' })).toMatchObject({ ok: true });
    a.leave();
  });
});

describe('SFU resources stay bounded', () => {
  it('creates one consumer per producer however often `ready` comes', async () => {
    const a = new SfuClient();
    const b = new SfuClient();
    await a.enter('ready-flood', 'A');
    const caps = await b.enter('ready-flood', 'B');
    const send = await a.ok('create-transport', { direction: 'send' });
    await a.ok('produce', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(5) });
    await b.ok('create-transport', { direction: 'recv' });
    await b.ok('ready', { rtpCapabilities: caps });
    for (let i = 0; i < 50; i++) await b.request('ready', { rtpCapabilities: caps });
    const peerB = sfuPeers('ready-flood').find((p) => p.session.name === 'B')!;
    expect(peerB.consumers.size).toBe(1);
    a.leave();
    b.leave();
  });

  it('closes transports whose ICE never connects, and caps transports per address', async () => {
    const clients = [new SfuClient(), new SfuClient(), new SfuClient(), new SfuClient()];
    for (const [i, c] of clients.entries()) await c.enter(`ports-${i}`, `P${i}`);
    // Six transports fill this address's quota; the seventh is refused, not given ports.
    for (const c of clients.slice(0, 3)) {
      await c.ok('create-transport', { direction: 'send' });
      await c.ok('create-transport', { direction: 'recv' });
    }
    const refused = await clients[3]!.request('create-transport', { direction: 'send' });
    expect(refused).toMatchObject({ ok: false });
    expect((refused as { error: string }).error).toMatch(/too many media transports/);
    // None of them connects ICE: after the timeout they are closed and the quota is free again.
    await new Promise((resolve) => setTimeout(resolve, TRANSPORT_TIMEOUT_MS + 700));
    const held = [...server.sfu!.rooms.values()].flatMap((r) => [...r.peers.values()]).reduce((n, p) => n + p.transports.size, 0);
    expect(held).toBe(0);
    expect(await clients[3]!.request('create-transport', { direction: 'send' })).toMatchObject({ ok: true });
    for (const c of clients) c.leave();
  });
});
