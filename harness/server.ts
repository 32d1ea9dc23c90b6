import path from 'node:path';
import { build } from 'vite';
import { startServer, type RunningServer } from '../server/app.ts';
import { DEFAULT_CONFIG, type ServerConfig } from '../server/config.ts';

/** Builds the app into dist/, what startTestServer serves (the e2e global setup does it once per run). */
export async function buildApp(): Promise<void> {
  await build({ configFile: path.resolve('vite.config.ts'), logLevel: 'warn' });
}

/** The real server on a free port, serving the app built by buildApp. */
export function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  return startServer({ ...DEFAULT_CONFIG, port: 0, quiet: true, distDir: path.resolve('dist'), ...overrides });
}
