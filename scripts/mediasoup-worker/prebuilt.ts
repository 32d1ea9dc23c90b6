// mediasoup's own prebuilt worker: the file its install fetches from the mediasoup release on
// GitHub, where the network allows it. A download takes seconds instead of a ~5-8 minute build and
// needs no build packages; the build against Debian's libraries (build.ts) remains the way when
// the download fails, is refused (KILOFACE_MEDIASOUP_PREBUILT=0) or does not run on this host.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installAtomically, workerProblem } from './worker-file.ts';

const RELEASES = 'https://github.com/versatica/mediasoup/releases/download';
/** Time for the whole download (the archive is ~10 MB); an unreachable host usually fails at once. */
const DOWNLOAD_TIMEOUT_MS = 60_000;

/** The archive mediasoup publishes for this host (its name carries the Linux kernel's major version). */
export function prebuiltArchiveName(version: string, platform: string = os.platform(), arch: string = os.arch(), release: string = os.release()): string {
  const kernel = platform === 'linux' ? `-kernel${release.split('.')[0]}` : '';
  return `mediasoup-worker-${version}-${platform}-${arch}${kernel}.tgz`;
}

export interface PrebuiltOptions {
  mediasoupVersion: string;
  destination: string;
  log: (line: string) => void;
  /** Where releases are (MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL, as mediasoup's own install reads it). */
  baseUrl?: string;
  timeoutMs?: number;
}

/** Downloads, checks and installs the prebuilt worker; false (and why, in the log) when it cannot. */
export async function installPrebuiltWorker(options: PrebuiltOptions): Promise<boolean> {
  const base = options.baseUrl ?? process.env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL ?? RELEASES;
  const url = `${base}/${options.mediasoupVersion}/${prebuiltArchiveName(options.mediasoupVersion)}`;
  options.log(`Trying mediasoup's prebuilt worker: ${url}`);
  let archive: Buffer;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? DOWNLOAD_TIMEOUT_MS) });
    if (!response.ok) {
      options.log(`No prebuilt worker (HTTP ${response.status}${response.status === 404 ? ': none published for this host' : ''}).`);
      return false;
    }
    archive = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    options.log(`No prebuilt worker: the download failed (${cause ?? (error as Error).message}).`);
    return false;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiloface-mediasoup-prebuilt-'));
  try {
    const file = path.join(dir, 'worker.tgz');
    writeFileSync(file, archive);
    const untar = spawnSync('tar', ['-xzf', file, '-C', dir], { encoding: 'utf8' });
    if (untar.status !== 0) {
      options.log(`No prebuilt worker: the archive did not unpack (${(untar.stderr || untar.error?.message || '').trim()}).`);
      return false;
    }
    const binary = findFile(dir, 'mediasoup-worker');
    if (!binary) {
      options.log('No prebuilt worker: the archive holds no mediasoup-worker.');
      return false;
    }
    // It must run here: a prebuilt binary may want a newer C library than this host has.
    const problem = workerProblem(binary);
    if (problem !== undefined) {
      options.log(`The prebuilt worker does not run on this host (${problem}); building it instead.`);
      return false;
    }
    installAtomically(binary, options.destination);
    options.log(`Installed mediasoup's prebuilt worker: ${options.destination}`);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function findFile(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) {
      const found = findFile(full, name);
      if (found) return found;
    } else if (entry === name) return full;
  }
  return undefined;
}
