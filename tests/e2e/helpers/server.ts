import path from 'node:path';
import { startServer, type RunningServer } from '../../../server/app.ts';
import { DEFAULT_CONFIG, type ServerConfig } from '../../../server/config.ts';

/** The real server on a free port, serving the app built by the e2e global setup. */
export function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  return startServer({ ...DEFAULT_CONFIG, port: 0, quiet: true, distDir: path.resolve('dist'), ...overrides });
}
