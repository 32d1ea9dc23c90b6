import { startServer, type RunningServer } from '../../../../server/app.ts';
import { DEFAULT_CONFIG, type ServerConfig } from '../../../../server/config.ts';

/**
 * The real server for a unit test: a free port, no log, no built app (HTTP serves only its own
 * routes), no SFU unless `overrides.sfu` asks for one.
 */
export function startQuietServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  return startServer({ ...DEFAULT_CONFIG, port: 0, quiet: true, distDir: '/nonexistent-dist', sfu: { ...DEFAULT_CONFIG.sfu, enabled: false }, ...overrides });
}
