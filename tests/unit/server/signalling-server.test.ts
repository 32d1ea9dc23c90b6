import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app.ts';
import { startQuietServer } from './helpers/server.ts';
import { SignallingTestClient } from './helpers/signalling-client.ts';

let server: RunningServer;
let wsUrl: string;

beforeAll(async () => {
  server = await startQuietServer();
  wsUrl = `${server.url.replace('http', 'ws')}/ws`;
});
afterAll(() => server.close());

/** A raw signalling client on this file's server. */
class Client extends SignallingTestClient {
  constructor() {
    super(wsUrl);
  }
}

describe('signalling server over a real WebSocket', () => {
  it('serves /healthz and says when the app is not built', async () => {
    const health = await (await fetch(`${server.url}/healthz`)).json();
    expect(health).toMatchObject({ ok: true });
    const page = await fetch(`${server.url}/r/some-room`);
    expect(page.status).toBe(503);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect((await fetch(`${server.url}/..%2f..%2fetc/passwd`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${server.url}/x`, { method: 'DELETE' })).status).toBe(405);
  });

  it('joins, relays signals, and announces leaving', async () => {
    const a = new Client();
    const b = new Client();
    const wa = await a.join('relay', 'A');
    const wb = await b.join('relay', 'B');
    expect(wb.peers).toEqual([wa.self]);
    expect((await a.next('peer-joined')).peer).toEqual(wb.self);
    b.send({ type: 'signal', to: wa.self.id, data: { sdp: 'offer' } });
    expect(await a.next('signal')).toEqual({ type: 'signal', from: wb.self.id, data: { sdp: 'offer' } });
    b.send({ type: 'leave' });
    expect(await a.next('peer-left')).toEqual({ type: 'peer-left', peerId: wb.self.id, reason: 'left' });
    a.socket.close();
    b.socket.close();
  });

  it('answers each kind of bad message with an error, and keeps the connection usable', async () => {
    const c = await new Client().open();
    c.send('{{{');
    expect((await c.next('error')).code).toBe('bad-json');
    c.send({ type: 'signal', to: 'abcdefgh12', data: {} });
    expect((await c.next('error')).code).toBe('not-joined');
    c.socket.send(Buffer.from([1, 2, 3]));
    expect((await c.next('error')).code).toBe('bad-message');
    c.send('x'.repeat(100_000));
    expect((await c.next('error')).code).toBe('too-large');
    const welcome = await c.join('garbage-ok', 'C');
    c.send({ type: 'join', room: 'x', name: 'again' });
    expect((await c.next('error')).code).toBe('already-joined');
    c.send({ type: 'signal', to: 'nobody-here-1', data: {} });
    expect((await c.next('error')).code).toBe('unknown-peer');
    c.send({ type: 'ping' });
    await c.next('pong');
    expect(welcome.room).toBe('garbage-ok');
    c.socket.close();
  });

  it('closes a socket whose payload exceeds the hard limit, without disturbing other rooms', async () => {
    const bystander = new Client();
    await bystander.join('bystander', 'B');
    const c = await new Client().open();
    c.send('y'.repeat(1024 * 1024));
    await new Promise((resolve) => c.socket.once('close', resolve));
    expect(c.closedWith).toBe(1009);
    bystander.send({ type: 'ping' });
    await bystander.next('pong');
    bystander.socket.close();
  });

  it('rate-limits a flood with one error reply per second, then closes the socket', async () => {
    const c = await new Client().open();
    for (let i = 0; i < 500; i++) c.send({ type: 'ping' });
    await new Promise((resolve) => c.socket.once('close', resolve));
    const errors = c.messages.filter((m) => m.type === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeLessThanOrEqual(2);
    expect(errors[0]).toMatchObject({ code: 'rate-limited' });
    expect(c.closedWith).toBe(1008);
  });

  it('refuses a wrong secret and a full room', async () => {
    const owner = new Client();
    await owner.join('locked', 'Owner', { secret: 'open sesame' });
    const intruder = await new Client().open();
    intruder.send({ type: 'join', room: 'locked', name: 'I', secret: 'guess' });
    expect((await intruder.next('error')).code).toBe('wrong-secret');
    const guests = [new Client(), new Client(), new Client()];
    for (const g of guests) await g.join('locked', 'G', { secret: 'open sesame' });
    const fifth = await new Client().open();
    fifth.send({ type: 'join', room: 'locked', name: 'E', secret: 'open sesame' });
    expect((await fifth.next('error')).code).toBe('room-full');
    for (const c of [owner, intruder, fifth, ...guests]) c.socket.close();
  });

  it('lets a dropped tab resume its seat and receive what was sent meanwhile', async () => {
    const a = new Client();
    const b = new Client();
    const wa = await a.join('resume', 'A');
    const wb = await b.join('resume', 'B');
    a.socket.terminate();
    await new Promise((resolve) => setTimeout(resolve, 100));
    b.send({ type: 'signal', to: wa.self.id, data: { candidate: 1 } });
    const again = new Client();
    const welcome = await again.join('resume', 'A', { resume: wa.resume });
    expect(welcome).toMatchObject({ resumed: true, self: wa.self, peers: [wb.self] });
    expect(await again.next('signal')).toMatchObject({ from: wb.self.id, data: { candidate: 1 } });
    expect(b.messages.some((m) => m.type === 'peer-left')).toBe(false);
    again.socket.close();
    b.socket.close();
  });
});
