// The system tools and libraries the worker build needs, and meson.
//
// The Debian packages need root, so this script never installs them: it names
// the missing ones and the apt-get command (CI installs them in .ci/run).
// Meson must be >= 1.1 (mediasoup's meson.build says so; Debian bookworm has
// 1.0.1), so unless one is on PATH it is pip-installed into the cache, which
// needs no root.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

/** How each Debian package is recognised: a command on PATH or a pkg-config module. */
interface Requirement {
  aptPackage: string;
  command?: string;
  pkgConfig?: string;
}

// make is not needed: meson generates ninja files.
const REQUIREMENTS: Requirement[] = [
  { aptPackage: 'g++', command: 'g++' },
  { aptPackage: 'pkg-config', command: 'pkg-config' },
  { aptPackage: 'ninja-build', command: 'ninja' },
  { aptPackage: 'libuv1-dev', pkgConfig: 'libuv' },
  { aptPackage: 'libssl-dev', pkgConfig: 'openssl' },
  { aptPackage: 'libsrtp2-dev', pkgConfig: 'libsrtp2' },
  { aptPackage: 'libabsl-dev', pkgConfig: 'absl_flat_hash_map' },
  { aptPackage: 'libflatbuffers-dev', pkgConfig: 'flatbuffers' },
  { aptPackage: 'flatbuffers-compiler', command: 'flatc' },
];

export const APT_PACKAGES = REQUIREMENTS.map((requirement) => requirement.aptPackage);

export const MESON_REQUIREMENT = 'meson>=1.1,<2';
const MESON_MINIMUM: readonly number[] = [1, 1, 0];

function succeeds(command: string, args: string[], env?: NodeJS.ProcessEnv): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', env: env ?? process.env });
  return result.status === 0;
}

function commandExists(command: string): boolean {
  // `command -v` is a shell builtin; it finds executables exactly as spawn will.
  return succeeds('sh', ['-c', 'command -v "$0" >/dev/null', command]);
}

/** The apt packages whose command or pkg-config module is missing. */
export function missingAptPackages(): string[] {
  const hasPkgConfig = commandExists('pkg-config');
  return REQUIREMENTS.filter((requirement) => {
    if (requirement.command !== undefined) return !commandExists(requirement.command);
    // Without pkg-config the libraries cannot be checked (nor found by meson).
    return !hasPkgConfig || !succeeds('pkg-config', ['--exists', requirement.pkgConfig ?? '']);
  }).map((requirement) => requirement.aptPackage);
}

export function aptInstallCommand(packages: readonly string[]): string {
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  return `${sudo}apt-get install -y ${packages.join(' ')}`;
}

/** How to run meson: argv prefix plus environment additions (PYTHONPATH for the pip copy). */
export interface Meson {
  argv: string[];
  env: Record<string, string>;
  version: string;
  origin: string;
}

function parseVersion(text: string): number[] | undefined {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function versionAtLeast(version: string, minimum: readonly number[] = MESON_MINIMUM): boolean {
  const parts = parseVersion(version);
  if (parts === undefined) return false;
  for (let i = 0; i < minimum.length; i++) {
    const have = parts[i] ?? 0;
    const want = minimum[i] ?? 0;
    if (have !== want) return have > want;
  }
  return true;
}

function probeMeson(argv: string[], env: Record<string, string>, origin: string): Meson | undefined {
  const [command, ...args] = argv;
  if (command === undefined) return undefined;
  const result = spawnSync(command, [...args, '--version'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (result.status !== 0) return undefined;
  const version = result.stdout.trim();
  return versionAtLeast(version) ? { argv, env, version, origin } : undefined;
}

function pipMeson(toolsDir: string): Meson | undefined {
  const script = path.join(toolsDir, 'bin', 'meson');
  if (!existsSync(script)) return undefined;
  // Run the script with python3 explicitly (its shebang names whichever python
  // installed it); PYTHONPATH lets it, and the meson commands ninja runs, import mesonbuild.
  return probeMeson(['python3', script], { PYTHONPATH: toolsDir }, `pip copy in ${toolsDir}`);
}

/** A usable meson: $MESON, else `meson` on PATH, else the pip copy in the cache. */
export function findMeson(toolsDir: string): Meson | undefined {
  const fromEnv = process.env.MESON;
  if (fromEnv !== undefined && fromEnv !== '') {
    const meson = probeMeson([fromEnv], {}, `$MESON (${fromEnv})`);
    if (meson !== undefined) return meson;
  }
  return probeMeson(['meson'], {}, 'meson on PATH') ?? pipMeson(toolsDir);
}

export function pipInstallCommand(toolsDir: string): string {
  return `python3 -m pip install --no-user --target ${toolsDir} '${MESON_REQUIREMENT}'`;
}

/**
 * pip-installs meson into toolsDir (from whatever index pip is configured
 * with). Installs into a temporary directory first and renames it into place,
 * so an interrupted install never leaves a half-populated toolsDir behind.
 */
export function installPipMeson(toolsDir: string, log: (message: string) => void): Meson | undefined {
  const staging = `${toolsDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.dirname(toolsDir), { recursive: true });
  log(`Installing ${MESON_REQUIREMENT} with pip into ${toolsDir} ...`);
  const result = spawnSync(
    'python3',
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-user', '--target', staging, MESON_REQUIREMENT],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    return undefined;
  }
  rmSync(toolsDir, { recursive: true, force: true });
  renameSync(staging, toolsDir);
  return pipMeson(toolsDir);
}
