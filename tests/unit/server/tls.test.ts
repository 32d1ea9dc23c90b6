import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startQuietServer } from './helpers/server.ts';

// Off localhost browsers need https for the camera: the server with --cert/--key, for real.
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const dir = mkdtempSync(path.join(tmpdir(), 'kiloface-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasOpenssl)('TLS', () => {
  it('serves /healthz over https and signalling over wss with the given certificate', async () => {
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const server = await startQuietServer({ tlsCert: cert, tlsKey: key });
    try {
      expect(server.url).toMatch(/^https:\/\//);
      const body = await new Promise<string>((resolve, reject) => {
        https.get(`${server.url}/healthz`, { rejectUnauthorized: false }, (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(JSON.parse(body)).toMatchObject({ ok: true });
      const socket = new WebSocket(`${server.url.replace('https', 'wss')}/ws`, { rejectUnauthorized: false });
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const reply = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
      socket.send(JSON.stringify({ type: 'ping' }));
      expect(JSON.parse(await reply)).toEqual({ type: 'pong' });
      socket.close();
    } finally {
      await server.close();
    }
  }, 30_000); // RSA key generation alone takes seconds on a loaded 2-core machine
});
