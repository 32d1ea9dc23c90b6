// Where the mediasoup C++ worker binary lives.
//
// mediasoup's own install downloads a prebuilt worker (or meson subprojects)
// from GitHub, which our machines cannot reach, so scripts/mediasoup-worker
// builds it against Debian's libraries into a per-user cache outside the
// repository. The cache key covers everything that changes the binary: the
// mediasoup version, the CPU architecture and a hash of our build files
// (subproject shims + build script). Both that build script and the server
// use this module, so they agree on the path.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Build inputs: the shims, the compatibility headers and the build script. */
export const WORKER_BUILD_DIR = path.join(REPO_ROOT, 'scripts', 'mediasoup-worker');

export const DEFAULT_MEDIASOUP_DIR = path.join(REPO_ROOT, 'node_modules', 'mediasoup');

export const BUILD_COMMAND = 'npm run build:mediasoup-worker';

/** Length of the build-file hash in the cache path: short, and plenty to tell builds apart. */
const HASH_LENGTH = 12;

type Env = Record<string, string | undefined>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The kiloface cache root: $KILOFACE_CACHE_DIR, else $XDG_CACHE_HOME/kiloface,
 * else ~/.cache/kiloface. A relative XDG_CACHE_HOME is ignored, as the XDG
 * spec says.
 */
export function kilofaceCacheDir(env: Env = process.env, home: string = homedir()): string {
  const explicit = nonEmpty(env.KILOFACE_CACHE_DIR);
  if (explicit !== undefined) return path.resolve(explicit);

  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'kiloface');

  return path.join(home, '.cache', 'kiloface');
}

/** Files under dir, as sorted relative POSIX paths (stable across machines). */
function listFiles(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...listFiles(dir, relative));
    else if (entry.isFile()) files.push(relative);
  }
  return files.sort();
}

/**
 * Short hash of what determines the binary: build.ts (meson options, source
 * preparation) and everything under subprojects/ (the shims and headers).
 * The README and the lock/prerequisite helpers are left out so that editing
 * them does not cost a rebuild. Paths are hashed too: meson matches the shim
 * directory names, so renaming one changes the key.
 */
export function buildFilesHash(buildDir: string = WORKER_BUILD_DIR): string {
  const inputs = ['build.ts', ...listFiles(path.join(buildDir, 'subprojects')).map((file) => `subprojects/${file}`)];
  const hash = createHash('sha256');
  for (const file of inputs) {
    hash.update(file).update('\0').update(readFileSync(path.join(buildDir, file))).update('\0');
  }
  return hash.digest('hex').slice(0, HASH_LENGTH);
}

export interface WorkerCacheKey {
  mediasoupVersion: string;
  arch: string;
  buildHash: string;
}

/** Directory name for one build: <mediasoupVersion>-<arch>-<buildHash>. */
export function workerCacheKey({ mediasoupVersion, arch, buildHash }: WorkerCacheKey): string {
  return `${mediasoupVersion}-${arch}-${buildHash}`;
}

/** <cacheDir>/mediasoup-worker: the cached builds, the build lock and temporary build trees. */
export function workerCacheRoot(cacheDir: string): string {
  return path.join(cacheDir, 'mediasoup-worker');
}

/** <cacheDir>/mediasoup-worker/<mediasoupVersion>-<arch>-<buildHash>/mediasoup-worker */
export function workerBinaryPath(cacheDir: string, key: WorkerCacheKey): string {
  return path.join(workerCacheRoot(cacheDir), workerCacheKey(key), 'mediasoup-worker');
}

/** The "version" field of the mediasoup package in mediasoupDir. */
export function readMediasoupVersion(mediasoupDir: string = DEFAULT_MEDIASOUP_DIR): string {
  const packageJson = path.join(mediasoupDir, 'package.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(packageJson, 'utf8'));
  } catch (error) {
    throw new Error(
      `Cannot read the mediasoup package at ${packageJson} (${(error as Error).message}); run npm install first.`,
    );
  }
  const version = (parsed as { version?: unknown }).version;
  if (typeof version !== 'string' || version === '') {
    throw new Error(`${packageJson} has no "version" field.`);
  }
  return version;
}

export interface WorkerBinaryOptions {
  env?: Env;
  home?: string;
  arch?: string;
  mediasoupDir?: string;
  buildDir?: string;
}

/** Cache path of the worker binary for the installed mediasoup and the current build files. */
export function cachedWorkerBinaryPath(options: WorkerBinaryOptions = {}): string {
  const cacheDir = kilofaceCacheDir(options.env ?? process.env, options.home ?? homedir());
  return workerBinaryPath(cacheDir, {
    mediasoupVersion: readMediasoupVersion(options.mediasoupDir ?? DEFAULT_MEDIASOUP_DIR),
    arch: options.arch ?? process.arch,
    buildHash: buildFilesHash(options.buildDir ?? WORKER_BUILD_DIR),
  });
}

/**
 * The worker binary to hand to mediasoup (createWorker's workerBin, or
 * MEDIASOUP_WORKER_BIN): $MEDIASOUP_WORKER_BIN when set, else the cached
 * build. Throws with instructions when neither exists, so the server fails at
 * start-up with a clear message instead of `spawn ... ENOENT` later.
 */
export function resolveMediasoupWorkerBin(options: WorkerBinaryOptions = {}): string {
  const env = options.env ?? process.env;
  const override = nonEmpty(env.MEDIASOUP_WORKER_BIN);
  if (override !== undefined) {
    const absolute = path.resolve(override);
    if (!existsSync(absolute)) {
      throw new Error(`MEDIASOUP_WORKER_BIN is set to ${override}, but there is no file there.`);
    }
    return absolute;
  }

  const cached = cachedWorkerBinaryPath(options);
  if (!existsSync(cached)) {
    throw new Error(
      `The mediasoup worker binary is not built for this mediasoup version and build files ` +
        `(expected ${cached}). Run \`${BUILD_COMMAND}\` (about 5-6 minutes on 2 cores), ` +
        `or set MEDIASOUP_WORKER_BIN to a worker binary.`,
    );
  }
  return cached;
}
