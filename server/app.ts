import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Connect, ViteDevServer } from 'vite';
import type { ServerConfig } from './config.ts';
import { RoomRegistry, DEFAULT_ROOM_OPTIONS } from './signalling/rooms.ts';
import { DEFAULT_SIGNALLING_OPTIONS, SignallingServer } from './signalling/signalling-server.ts';
import { MODEL_FILE, serveStatic } from './static-files.ts';
import { SfuService } from './sfu/sfu-service.ts';
import { turnIceServer } from './turn-credentials.ts';
import { loadSessionKey } from './session-key.ts';

export const SIGNALLING_PATH = '/ws';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODELS_DIR = path.join(REPO, 'models');

/**
 * Headers on every response. Cross-origin isolation: onnxruntime-web needs SharedArrayBuffer for
 * its WASM threads. The policy: only our own scripts, workers and sockets; WebAssembly may
 * compile ('wasm-unsafe-eval', not eval); pictures and media from blobs (the rebuilt face, camera
 * streams); no framing by other sites; no referrer (room names and secrets live in the URL).
 */
const SECURITY_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "style-src 'self' 'unsafe-inline'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

export interface RunningServer {
  url: string;
  port: number;
  signalling: SignallingServer;
  /** The SFU, when it is enabled and its worker binary runs. */
  sfu: SfuService | undefined;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const log = config.quiet ? () => {} : (line: string) => console.log(line);
  const startedAt = Date.now();
  const sfu = config.sfu.enabled ? await startSfu(config, log) : undefined;
  const rooms = new RoomRegistry(
    {
      ...DEFAULT_ROOM_OPTIONS,
      maxPeers: config.maxPeersPerRoom,
      sfuAvailable: sfu !== undefined,
      sfuMaxPeers: config.sfu.maxPeersPerRoom,
      ...(config.sessionKeyFile ? { sessionKey: loadSessionKey(config.sessionKeyFile, (line) => console.warn(line)) } : {}),
    },
    // With a TURN relay, each person gets a credential of their own that expires (never a lasting password).
    config.turn ? (peer) => [...config.iceServers, turnIceServer(config.turn!, peer.id)] : config.iceServers,
  );
  const signalling = new SignallingServer(rooms, { ...DEFAULT_SIGNALLING_OPTIONS, ...config.signallingLimits, allowedOrigins: config.allowedOrigins, log });
  if (sfu) {
    sfu.attach(rooms);
    signalling.sfu = sfu;
  }
  const tls = config.tlsCert && config.tlsKey;
  let vite: ViteDevServer | undefined;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    try {
      handleRequest(req, res);
    } catch (error) {
      // A bug here must cost one request, never the process (and with it every call and SFU worker).
      log(`http: internal error on ${JSON.stringify(String(req.url).slice(0, 100))}: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    }
  };

  const handleRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // Vite's dev server injects inline scripts and its own socket: no policy there.
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!(vite && name === 'content-security-policy')) res.setHeader(name, value);
    const url = requestUrl(req);
    if (!url) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('bad request: the path is not a valid URL\n');
      return;
    }
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
    if (url.pathname === '/admin/stats') {
      void adminStats(req, res, config.adminToken, sfu, rooms);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    if (vite && !MODEL_FILE.test(url.pathname)) {
      // Vite's SPA fallback serves index.html for /r/<room>.
      vite.middlewares(req, res, (() => {
        res.writeHead(404);
        res.end();
      }) as Connect.NextFunction);
      return;
    }
    // The shipped models come straight from the repository's models/ folder.
    const [root, pathname] = MODEL_FILE.test(url.pathname) ? [MODELS_DIR, url.pathname.slice('/models'.length)] : [config.distDir, url.pathname];
    serveStatic(root, req, res, pathname).catch((error: Error) => {
      log(`http: ${error.message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };

  const server = tls
    ? https.createServer({ cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) }, handler)
    : http.createServer(handler);

  server.on('upgrade', (req, socket, head) => {
    try {
      const pathname = requestUrl(req)?.pathname;
      if (pathname === SIGNALLING_PATH) signalling.handleUpgrade(req, socket, head);
      else if (!vite || pathname === undefined) socket.destroy(); // in dev, Vite's HMR socket takes the other upgrades
    } catch (error) {
      log(`http: internal error on upgrade: ${(error as Error).message}`);
      socket.destroy();
    }
  });
  // Unparseable HTTP gets a plain 400 (as Node would say), then the connection closes.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

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
      await sfu?.close();
      await vite?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    })());

  return { url, port, signalling, sfu, close };
}

/**
 * The request's URL, or undefined when its target is not a path. The target is read as a path
 * (origin-form), never as `//host/...`: resolving `//[` against a base threw and killed the server.
 */
export function requestUrl(req: http.IncomingMessage): URL | undefined {
  const target = req.url ?? '/';
  if (!target.startsWith('/')) return undefined;
  try {
    return new URL(`http://localhost${target}`);
  } catch {
    return undefined;
  }
}

/** Starts mediasoup; without a worker binary the server still runs, P2P only, and says why. */
async function startSfu(config: ServerConfig, log: (line: string) => void): Promise<SfuService | undefined> {
  try {
    const sfu = await SfuService.start({
      workers: config.sfu.workers || cpus().length,
      transportConnectTimeoutMs: config.sfu.transportConnectTimeoutMs,
      maxTransportsPerAddress: config.sfu.maxTransportsPerAddress,
      listenIp: config.sfu.listenIp,
      ...(config.sfu.announcedAddress ? { announcedAddress: config.sfu.announcedAddress } : {}),
      peersPerRouter: config.sfu.peersPerRouter,
      rtcMinPort: config.sfu.rtcMinPort,
      rtcMaxPort: config.sfu.rtcMaxPort,
      log,
    });
    log(`sfu: ${sfu.pool.workers.length} mediasoup workers, media on ${config.sfu.listenIp}${config.sfu.announcedAddress ? ` announced as ${config.sfu.announcedAddress}` : ''}`);
    return sfu;
  } catch (error) {
    console.warn(`warning: SFU disabled, rooms stay P2P (max ${config.maxPeersPerRoom} people): ${(error as Error).message}`);
    return undefined;
  }
}

/** Compares digests, not the strings: equal lengths always, so the time says nothing of the token's length. */
function tokenMatches(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** GET /admin/stats with `Authorization: Bearer <token>`: rooms, peers, and the SFU's per-stream bitrates. */
async function adminStats(req: http.IncomingMessage, res: http.ServerResponse, token: string | undefined, sfu: SfuService | undefined, rooms: RoomRegistry): Promise<void> {
  const reply = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  if (!token) return reply(404, { error: 'admin endpoint disabled: start the server with --admin-token' });
  const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  if (!tokenMatches(given, token)) return reply(401, { error: 'missing or wrong bearer token' });
  if (req.method !== 'GET') return reply(405, { error: 'GET only' });
  try {
    reply(200, { ...rooms.size, sfu: sfu ? await sfu.stats() : null });
  } catch (error) {
    reply(500, { error: (error as Error).message });
  }
}
