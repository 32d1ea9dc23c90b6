import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IceServerConfig } from '../protocol/signalling.ts';
import type { SignallingLimits } from './signalling/signalling-server.ts';
import type { TurnConfig } from './turn-credentials.ts';
import { kilofaceCacheDir } from './sfu/worker-binary.ts';

export interface ServerConfig {
  host: string;
  port: number;
  /** TLS certificate and key (PEM paths). Browsers allow the camera only on https or localhost. */
  tlsCert?: string;
  tlsKey?: string;
  /** Folder with the built app (vite build output). */
  distDir: string;
  /** Serve web/ through Vite's dev middleware instead of dist/. */
  dev: boolean;
  maxPeersPerRoom: number;
  iceServers: IceServerConfig[];
  /** A TURN relay (coturn with use-auth-secret) for which each person gets a short-lived credential. */
  turn?: TurnConfig;
  quiet: boolean;
  sfu: {
    enabled: boolean;
    /** mediasoup workers; 0 = one per core. */
    workers: number;
    /** Address the media transports listen on. */
    listenIp: string;
    /** Address announced to browsers (public IP or name) when it differs from listenIp. */
    announcedAddress?: string;
    peersPerRouter: number;
    maxPeersPerRoom: number;
    rtcMinPort: number;
    rtcMaxPort: number;
    /** A media transport whose ICE has not connected by then is closed (its ports are freed). */
    transportConnectTimeoutMs: number;
    /** Media transports one address may hold across rooms (two per person in a call). */
    maxTransportsPerAddress: number;
  };
  /** Bearer token for /admin/stats; the endpoint is off without it. */
  adminToken?: string;
  /**
   * File holding the key that signs resume tickets, so that a restarted server takes back the calls
   * that went on without it (server/session-key.ts). Absent: a random key per start.
   */
  sessionKeyFile?: string;
  /** Page origins besides the server's own whose pages may use its signalling. */
  allowedOrigins: string[];
  /** Overrides of the signalling socket's limits (tests and operators embedding the server). */
  signallingLimits?: Partial<SignallingLimits>;
}

/** A day: coturn refuses a credential's allocation refreshes once it has expired, which would cut a call. */
export const DEFAULT_TURN_TTL_SECONDS = 86_400;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 8080,
  distDir: path.join(ROOT, 'dist'),
  dev: false,
  maxPeersPerRoom: 4,
  iceServers: [],
  quiet: false,
  allowedOrigins: [],
  sfu: { enabled: true, workers: 0, listenIp: '127.0.0.1', peersPerRouter: 8, maxPeersPerRoom: 16, rtcMinPort: 40000, rtcMaxPort: 49999, transportConnectTimeoutMs: 30_000, maxTransportsPerAddress: 32 },
};

export const USAGE = `kiloface server

  --host ADDR        listen address (env KILOFACE_HOST; default ${DEFAULT_CONFIG.host};
                     use 0.0.0.0 with --cert/--key to serve other machines)
  --port N           listen port (env KILOFACE_PORT or PORT; default ${DEFAULT_CONFIG.port}; 0 = any free port)
  --cert FILE        TLS certificate, PEM (env KILOFACE_TLS_CERT)
  --key FILE         TLS private key, PEM (env KILOFACE_TLS_KEY)
  --dist DIR         built app to serve (default dist/)
  --dev              serve web/ through Vite with live reload
  --max-peers N      people per room (default ${DEFAULT_CONFIG.maxPeersPerRoom})
  --ice-servers JSON STUN/TURN servers handed to browsers (env KILOFACE_ICE_SERVERS), e.g.
                     '[{"urls":"stun:stun.example.org:3478"}]'
  --turn-url URL     TURN relay handed to browsers with a fresh credential each (env KILOFACE_TURN_URL;
                     comma-separated for several, e.g. turn:turn.example.org:3478?transport=udp)
  --turn-secret S    coturn's static-auth-secret (env KILOFACE_TURN_SECRET; needed with --turn-url)
  --turn-ttl SEC     how long a TURN credential lasts (default ${DEFAULT_TURN_TTL_SECONDS}); coturn checks it on
                     every allocation refresh, so it must outlast the longest call
  --no-sfu           P2P mesh only (rooms of up to --max-peers), no mediasoup
  --sfu-workers N    mediasoup workers (default: one per core)
  --sfu-listen-ip IP address the SFU's media transports listen on (default: --host, or 127.0.0.1)
  --sfu-announced-address ADDR  address browsers reach the SFU at (public IP/name), if different
  --sfu-peers-per-router N      peers on one worker's router before a room spreads to another (default 8)
  --sfu-max-peers N  people per SFU room (default 16)
  --rtc-ports A-B    UDP/TCP port range for media (default 40000-49999)
  --allowed-origins LIST  comma-separated page origins (e.g. https://app.example.org) allowed to
                     use the signalling socket besides this server's own (env KILOFACE_ALLOWED_ORIGINS)
  --admin-token T    enables GET /admin/stats with "Authorization: Bearer T" (env KILOFACE_ADMIN_TOKEN)
  --session-key-file FILE  key that signs resume tickets, kept so a restart takes calls back
                     (env KILOFACE_SESSION_KEY_FILE; default <cache dir>/session-key, made on first start)
  --quiet            no per-join log lines
  --help
`;

export class ConfigError extends Error {}

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port "${raw}"`);
  return port;
}

function parseIceServers(raw: string): IceServerConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('--ice-servers must be JSON, e.g. [{"urls":"stun:host:3478"}]');
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every(
      (s: unknown) =>
        typeof s === 'object' &&
        s !== null &&
        (typeof (s as IceServerConfig).urls === 'string' || Array.isArray((s as IceServerConfig).urls)),
    );
  if (!valid) throw new ConfigError('--ice-servers must be an array of {urls, username?, credential?}');
  return parsed as IceServerConfig[];
}

/** Flags win over environment variables, which win over defaults. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      dist: { type: 'string' },
      dev: { type: 'boolean' },
      'max-peers': { type: 'string' },
      'ice-servers': { type: 'string' },
      'turn-url': { type: 'string' },
      'turn-secret': { type: 'string' },
      'turn-ttl': { type: 'string' },
      quiet: { type: 'boolean' },
      'no-sfu': { type: 'boolean' },
      'sfu-workers': { type: 'string' },
      'sfu-listen-ip': { type: 'string' },
      'sfu-announced-address': { type: 'string' },
      'sfu-peers-per-router': { type: 'string' },
      'sfu-max-peers': { type: 'string' },
      'rtc-ports': { type: 'string' },
      'admin-token': { type: 'string' },
      'session-key-file': { type: 'string' },
      'allowed-origins': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const config: ServerConfig = { ...DEFAULT_CONFIG };
  config.host = values.host ?? env.KILOFACE_HOST ?? config.host;
  const port = values.port ?? env.KILOFACE_PORT ?? env.PORT;
  if (port !== undefined) config.port = parsePort(port);
  const cert = values.cert ?? env.KILOFACE_TLS_CERT;
  const key = values.key ?? env.KILOFACE_TLS_KEY;
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError('TLS needs both --cert and --key');
  if (cert !== undefined && key !== undefined) {
    config.tlsCert = cert;
    config.tlsKey = key;
  }
  if (values.dist) config.distDir = path.resolve(values.dist);
  config.dev = values.dev ?? false;
  if (values['max-peers'] !== undefined) {
    const n = Number(values['max-peers']);
    if (!Number.isInteger(n) || n < 2 || n > 16) throw new ConfigError('--max-peers must be 2-16');
    config.maxPeersPerRoom = n;
  }
  const ice = values['ice-servers'] ?? env.KILOFACE_ICE_SERVERS;
  if (ice !== undefined) config.iceServers = parseIceServers(ice);
  config.quiet = values.quiet ?? false;
  const turnUrl = values['turn-url'] ?? env.KILOFACE_TURN_URL;
  const turnSecret = values['turn-secret'] ?? env.KILOFACE_TURN_SECRET;
  if ((turnUrl === undefined) !== (turnSecret === undefined)) throw new ConfigError('TURN needs both --turn-url and --turn-secret');
  if (turnUrl !== undefined && turnSecret !== undefined) {
    const urls = turnUrl.split(',').map((u) => u.trim());
    if (!urls.every((u) => /^turns?:[^\s]+$/.test(u))) throw new ConfigError('--turn-url must look like turn:host:3478 (or turns:…)');
    if (turnSecret.length < 16) throw new ConfigError('--turn-secret must be at least 16 characters');
    const ttl = values['turn-ttl'] === undefined ? DEFAULT_TURN_TTL_SECONDS : Number(values['turn-ttl']);
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > 7 * 86_400) throw new ConfigError('--turn-ttl must be 60-604800 seconds');
    config.turn = { urls, secret: turnSecret, ttlSeconds: ttl };
  }
  const intIn = (name: string, raw: string | undefined, min: number, max: number, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${name} must be an integer in ${min}-${max}`);
    return n;
  };
  const sfu = { ...config.sfu };
  sfu.enabled = !(values['no-sfu'] ?? false);
  sfu.workers = intIn('sfu-workers', values['sfu-workers'], 0, 64, sfu.workers);
  sfu.peersPerRouter = intIn('sfu-peers-per-router', values['sfu-peers-per-router'], 1, 100, sfu.peersPerRouter);
  sfu.maxPeersPerRoom = intIn('sfu-max-peers', values['sfu-max-peers'], 2, 100, sfu.maxPeersPerRoom);
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  sfu.listenIp = values['sfu-listen-ip'] ?? (wildcard || config.host === 'localhost' ? (wildcard ? config.host : '127.0.0.1') : config.host);
  if (values['sfu-announced-address']) sfu.announcedAddress = values['sfu-announced-address'];
  if (values['rtc-ports'] !== undefined) {
    const match = /^(\d+)-(\d+)$/.exec(values['rtc-ports']);
    const [min, max] = [Number(match?.[1]), Number(match?.[2])];
    if (!match || min < 1024 || max > 65535 || min > max) throw new ConfigError('--rtc-ports must look like 40000-49999');
    sfu.rtcMinPort = min;
    sfu.rtcMaxPort = max;
  }
  config.sfu = sfu;
  const origins = values['allowed-origins'] ?? env.KILOFACE_ALLOWED_ORIGINS;
  if (origins !== undefined) {
    config.allowedOrigins = origins.split(',').map((o) => o.trim()).filter(Boolean);
    for (const origin of config.allowedOrigins) {
      if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new ConfigError(`--allowed-origins: "${origin}" is not an origin like https://app.example.org`);
    }
  }
  config.sessionKeyFile = path.resolve(values['session-key-file'] ?? env.KILOFACE_SESSION_KEY_FILE ?? path.join(kilofaceCacheDir(env), 'session-key'));
  const adminToken = values['admin-token'] ?? env.KILOFACE_ADMIN_TOKEN;
  if (adminToken !== undefined) {
    if (adminToken.length < 16) throw new ConfigError('--admin-token must be at least 16 characters');
    config.adminToken = adminToken;
  }
  return config;
}
