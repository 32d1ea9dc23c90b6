import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IceServerConfig } from './signalling/protocol.ts';

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
  quiet: boolean;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 8080,
  distDir: path.join(ROOT, 'dist'),
  dev: false,
  maxPeersPerRoom: 4,
  iceServers: [],
  quiet: false,
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
      quiet: { type: 'boolean' },
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
  return config;
}
