import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Connect, ViteDevServer } from 'vite';
import type { ServerConfig } from './config.ts';
import { RoomRegistry, DEFAULT_ROOM_OPTIONS } from './signalling/rooms.ts';
import { DEFAULT_SIGNALLING_OPTIONS, SignallingServer } from './signalling/signalling-server.ts';
import { serveStatic } from './static-files.ts';

export const SIGNALLING_PATH = '/ws';

/** Cross-origin isolation: onnxruntime-web needs SharedArrayBuffer for its WASM threads. */
const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
} as const;

export interface RunningServer {
  url: string;
  port: number;
  signalling: SignallingServer;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const log = config.quiet ? () => {} : (line: string) => console.log(line);
  const startedAt = Date.now();
  const rooms = new RoomRegistry({ ...DEFAULT_ROOM_OPTIONS, maxPeers: config.maxPeersPerRoom }, config.iceServers);
  const signalling = new SignallingServer(rooms, { ...DEFAULT_SIGNALLING_OPTIONS, log });
  const tls = config.tlsCert && config.tlsKey;
  let vite: ViteDevServer | undefined;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) res.setHeader(name, value);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(
        JSON.stringify({
          ok: true,
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          ...rooms.size,
          connections: signalling.connectionCount,
        }),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    if (vite) {
      // Vite's SPA fallback serves index.html for /r/<room>.
      vite.middlewares(req, res, (() => {
        res.writeHead(404);
        res.end();
      }) as Connect.NextFunction);
      return;
    }
    serveStatic(config.distDir, req, res, url.pathname).catch((error: Error) => {
      log(`http: ${error.message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };

  const server = tls
    ? https.createServer({ cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) }, handler)
    : http.createServer(handler);

  server.on('upgrade', (req, socket, head) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname === SIGNALLING_PATH) signalling.handleUpgrade(req, socket, head);
    else if (!vite) socket.destroy(); // in dev, Vite's HMR socket takes the other upgrades
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  if (config.dev) {
    const { createServer } = await import('vite');
    vite = await createServer({ server: { middlewareMode: true, hmr: { server } }, appType: 'spa' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `${tls ? 'https' : 'http'}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await signalling.close('the server is restarting; your call will reconnect');
      await vite?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    })());

  return { url, port, signalling, close };
}
