// Hostile signalling clients (issue 13): origins, connection limits, idle sockets, slow readers,
// response headers and the admin token. Each test fails on the server before the fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../../server/app.ts';
import { startQuietServer } from './helpers/server.ts';
import { SignallingTestClient } from './helpers/signalling-client.ts';

const LIMITS = { joinTimeoutMs: 600, maxConnectionsPerAddress: 6, maxBufferedBytes: 256 * 1024 };
const ADMIN_TOKEN = 'a-long-enough-admin-token';

let server: RunningServer;
let wsUrl: string;

beforeAll(async () => {
  server = await startQuietServer({
    allowedOrigins: ['https://partner.example'],
    signallingLimits: LIMITS,
    adminToken: ADMIN_TOKEN,
  });
  wsUrl = `${server.url.replace('http', 'ws')}/ws`;
});
afterAll(() => server.close());

/** Opens a socket and says whether the upgrade was accepted, or the HTTP status it got instead. */
function openWith(options: WebSocket.ClientOptions = {}): Promise<{ socket: WebSocket; status: number }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(wsUrl, options);
    socket.once('open', () => resolve({ socket, status: 101 }));
    socket.once('unexpected-response', (_req, res) => resolve({ socket, status: res.statusCode ?? 0 }));
    socket.once('error', () => resolve({ socket, status: 0 }));
  });
}

const waitFor = async (condition: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

describe('who may open the signalling socket', () => {
  it("admits the server's own origin, listed origins and non-browser clients; refuses other sites", async () => {
    const own = await openWith({ origin: server.url });
    const partner = await openWith({ origin: 'https://partner.example' });
    const bare = await openWith();
    const evil = await openWith({ origin: 'https://evil.example' });
    expect([own.status, partner.status, bare.status, evil.status]).toEqual([101, 101, 101, 403]);
    for (const s of [own, partner, bare, evil]) s.socket.terminate();
  });

  it('caps sockets per address and closes sockets that never join', async () => {
    await waitFor(() => server.signalling.connectionCount === 0);
    const opened = await Promise.all(Array.from({ length: LIMITS.maxConnectionsPerAddress }, () => openWith()));
    expect(opened.every((o) => o.status === 101)).toBe(true);
    expect((await openWith()).status).toBe(503);
    const closes = opened.map((o) => new Promise<number>((resolve) => o.socket.once('close', resolve)));
    // Nobody joined: the server closes them all after the join timeout (policy violation, 1008).
    expect(await Promise.all(closes)).toEqual(opened.map(() => 1008));
    await waitFor(() => server.signalling.connectionCount === 0);
    const again = await openWith();
    expect(again.status).toBe(101);
    again.socket.terminate();
  });
});

describe('refusals', () => {
  it('are forgiven over time: old mistakes do not close a socket that behaves now', async () => {
    const client = new SignallingTestClient(wsUrl);
    await client.join('forgiving', 'F');
    // The whole budget (100 by default) at once, then a pause, then two more: still open.
    for (let i = 0; i < 100; i++) client.send({ type: 'signal', to: 'nobody-here-at-all', data: {} });
    await waitFor(() => client.messages.filter((m) => m.type === 'error').length === 100);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    for (let i = 0; i < 2; i++) client.send({ type: 'signal', to: 'nobody-here-at-all', data: {} });
    await waitFor(() => client.messages.filter((m) => m.type === 'error').length === 102);
    expect(client.closedWith).toBeUndefined();
    client.socket.close();
  });
});

describe('a peer that stops reading', () => {
  it('is disconnected instead of making the server buffer what others send it', async () => {
    await waitFor(() => server.signalling.connectionCount === 0);
    const reader = new SignallingTestClient(wsUrl);
    const sender = new SignallingTestClient(wsUrl);
    const welcome = await reader.join('slow', 'Reader');
    await sender.join('slow', 'Sender');
    // Stop reading at the TCP level: the kernel buffers fill, then the server's own queue grows.
    (reader.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const padding = 'x'.repeat(60_000);
    for (let i = 0; i < 150; i++) sender.send({ type: 'signal', to: welcome.self.id, data: { padding } });
    await waitFor(() => server.signalling.connectionCount === 1, 10_000);
    sender.socket.close();
    reader.socket.terminate();
  });
});

describe('HTTP responses', () => {
  it('carry a content security policy and the other protective headers', async () => {
    const response = await fetch(`${server.url}/r/room`);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('answers a wrong admin token the same way whatever its length', async () => {
    for (const token of ['x', 'x'.repeat(ADMIN_TOKEN.length), 'x'.repeat(500)]) {
      const response = await fetch(`${server.url}/admin/stats`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
    }
    expect((await fetch(`${server.url}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
  });
});
