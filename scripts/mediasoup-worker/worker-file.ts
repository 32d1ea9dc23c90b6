// The worker binary as a file: is it usable, and putting it in place (built here or downloaded).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';

// Started without the environment mediasoup's JS passes (MEDIASOUP_VERSION),
// the worker exits with this code: reaching it proves the binary loads and
// that the dynamic loader found every library it links.
const WORKER_NO_ENV_EXIT_CODE = 41;

/** Why the binary is not usable, or undefined when it runs. */
export function workerProblem(binary: string): string | undefined {
  if (!existsSync(binary)) return 'not built yet';
  const result = spawnSync(binary, [], { env: {}, stdio: 'ignore', timeout: 10_000 });
  if (result.status === WORKER_NO_ENV_EXIT_CODE) return undefined;
  if (result.error !== undefined) return `cannot run it: ${result.error.message}`;
  // 127: the dynamic loader did not find a library (a Debian package removed?).
  return result.signal !== null
    ? `it died with ${result.signal}`
    : `it exited with ${String(result.status)} instead of ${WORKER_NO_ENV_EXIT_CODE}`;
}

/** Copies the binary in under a temporary name and renames it: readers never see a partial file. */
export function installAtomically(binary: string, destination: string): void {
  mkdirSync(path.dirname(destination), { recursive: true });
  const staging = `${destination}.tmp-${process.pid}`;
  copyFileSync(binary, staging);
  chmodSync(staging, 0o755);
  renameSync(staging, destination);
}
