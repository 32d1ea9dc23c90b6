// Hostile HTTP requests (issue 13): each must cost that request only, never the process.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app.ts';
import { startQuietServer } from './helpers/server.ts';

let server: RunningServer;

beforeAll(async () => {
  server = await startQuietServer();
});
afterAll(() => server.close());

/** Sends raw bytes and returns whatever comes back before the server closes or 2 s pass. */
function rawRequest(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(text));
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(reply));
    setTimeout(() => socket.destroy(), 2000);
  });
}

async function healthy(): Promise<boolean> {
  const response = await fetch(`${server.url}/healthz`);
  return response.ok && ((await response.json()) as { ok: boolean }).ok;
}

describe('HTTP request targets that are not URLs', () => {
  it('answers GET //[ with an error instead of throwing, and keeps serving', async () => {
    const reply = await rawRequest('GET //[ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 (400|404)/);
    expect(await healthy()).toBe(true);
  });

  it('survives //[ as a WebSocket upgrade', async () => {
    await rawRequest(
      'GET //[ HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(await healthy()).toBe(true);
  });

  it('refuses targets that are not paths (absolute-form, asterisk) with 400', async () => {
    expect(await rawRequest('GET http://[/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawRequest('OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await healthy()).toBe(true);
  });
});
