import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  BUILD_COMMAND,
  WORKER_BUILD_DIR,
  buildFilesHash,
  cachedWorkerBinaryPath,
  kilofaceCacheDir,
  readMediasoupVersion,
  resolveMediasoupWorkerBin,
  workerBinaryPath,
  workerCacheKey,
} from '../../server/sfu/worker-binary.ts';

let scratch: string;

beforeEach(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'kiloface-worker-binary-'));
});

afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function writeFile(relative: string, content: string): string {
  const file = path.join(scratch, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

/** A fake build directory and mediasoup package under scratch. */
function fixture(): { buildDir: string; mediasoupDir: string } {
  writeFile('build/build.ts', 'console.log("build");\n');
  writeFile('build/subprojects/libuv-v1.51.0/meson.build', "project('libuv', 'c')\n");
  writeFile('mediasoup/package.json', JSON.stringify({ name: 'mediasoup', version: '3.27.1' }));
  return { buildDir: path.join(scratch, 'build'), mediasoupDir: path.join(scratch, 'mediasoup') };
}

describe('kilofaceCacheDir', () => {
  it('prefers KILOFACE_CACHE_DIR, made absolute', () => {
    expect(kilofaceCacheDir({ KILOFACE_CACHE_DIR: '/srv/cache', XDG_CACHE_HOME: '/xdg' }, '/home/u')).toBe('/srv/cache');
    expect(kilofaceCacheDir({ KILOFACE_CACHE_DIR: 'rel/cache' }, '/home/u')).toBe(path.resolve('rel/cache'));
  });

  it('falls back to $XDG_CACHE_HOME/kiloface, then ~/.cache/kiloface', () => {
    expect(kilofaceCacheDir({ XDG_CACHE_HOME: '/xdg' }, '/home/u')).toBe('/xdg/kiloface');
    expect(kilofaceCacheDir({}, '/home/u')).toBe('/home/u/.cache/kiloface');
  });

  it('ignores empty variables and a relative XDG_CACHE_HOME', () => {
    expect(kilofaceCacheDir({ KILOFACE_CACHE_DIR: '', XDG_CACHE_HOME: '' }, '/home/u')).toBe('/home/u/.cache/kiloface');
    expect(kilofaceCacheDir({ XDG_CACHE_HOME: 'relative' }, '/home/u')).toBe('/home/u/.cache/kiloface');
  });
});

describe('workerBinaryPath', () => {
  it('is <cache>/mediasoup-worker/<version>-<arch>-<hash>/mediasoup-worker', () => {
    const key = { mediasoupVersion: '3.27.1', arch: 'x64', buildHash: 'abcdef012345' };
    expect(workerCacheKey(key)).toBe('3.27.1-x64-abcdef012345');
    expect(workerBinaryPath('/c', key)).toBe('/c/mediasoup-worker/3.27.1-x64-abcdef012345/mediasoup-worker');
  });
});

describe('buildFilesHash', () => {
  it('is 12 hex digits and stable', () => {
    const { buildDir } = fixture();
    const hash = buildFilesHash(buildDir);
    expect(hash).toMatch(/^[0-9a-f]{12}$/);
    expect(buildFilesHash(buildDir)).toBe(hash);
  });

  it('changes when a file changes, is added or is renamed', () => {
    const { buildDir } = fixture();
    const before = buildFilesHash(buildDir);

    writeFile('build/build.ts', 'console.log("build 2");\n');
    const edited = buildFilesHash(buildDir);
    expect(edited).not.toBe(before);

    writeFile('build/subprojects/openssl-3.0.8/meson.build', "project('openssl', 'c')\n");
    const added = buildFilesHash(buildDir);
    expect(added).not.toBe(edited);

    // Same content under another directory name: meson matches the names, so the key must change.
    rmSync(path.join(buildDir, 'subprojects', 'openssl-3.0.8'), { recursive: true });
    writeFile('build/subprojects/openssl-3.0.9/meson.build', "project('openssl', 'c')\n");
    expect(buildFilesHash(buildDir)).not.toBe(added);
  });

  it('covers only build.ts and subprojects/', () => {
    const { buildDir } = fixture();
    const before = buildFilesHash(buildDir);
    writeFile('build/README.md', '# docs\n');
    writeFile('build/lock.ts', 'export {};\n');
    expect(buildFilesHash(buildDir)).toBe(before);
    writeFile('build/subprojects/libuv-v1.51.0/empty.c', 'typedef int unused;\n');
    expect(buildFilesHash(buildDir)).not.toBe(before);
  });

  it('hashes the real build directory', () => {
    expect(buildFilesHash(WORKER_BUILD_DIR)).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('readMediasoupVersion', () => {
  it('reads the package version', () => {
    const { mediasoupDir } = fixture();
    expect(readMediasoupVersion(mediasoupDir)).toBe('3.27.1');
  });

  it('says to run npm install when mediasoup is missing', () => {
    expect(() => readMediasoupVersion(path.join(scratch, 'nope'))).toThrow(/npm install/);
  });
});

describe('resolveMediasoupWorkerBin', () => {
  it('returns MEDIASOUP_WORKER_BIN when set', () => {
    const bin = writeFile('bin/mediasoup-worker', '');
    expect(resolveMediasoupWorkerBin({ env: { MEDIASOUP_WORKER_BIN: bin } })).toBe(bin);
  });

  it('rejects a MEDIASOUP_WORKER_BIN that points nowhere', () => {
    expect(() => resolveMediasoupWorkerBin({ env: { MEDIASOUP_WORKER_BIN: path.join(scratch, 'missing') } })).toThrow(
      /MEDIASOUP_WORKER_BIN/,
    );
  });

  it('returns the cached binary when it exists', () => {
    const { buildDir, mediasoupDir } = fixture();
    const options = { env: { KILOFACE_CACHE_DIR: path.join(scratch, 'cache') }, arch: 'arm64', buildDir, mediasoupDir };
    const expected = workerBinaryPath(path.join(scratch, 'cache'), {
      mediasoupVersion: '3.27.1',
      arch: 'arm64',
      buildHash: buildFilesHash(buildDir),
    });
    expect(cachedWorkerBinaryPath(options)).toBe(expected);

    mkdirSync(path.dirname(expected), { recursive: true });
    writeFileSync(expected, '');
    chmodSync(expected, 0o755);
    expect(resolveMediasoupWorkerBin(options)).toBe(expected);
  });

  it('tells to run the build when nothing is there', () => {
    const { buildDir, mediasoupDir } = fixture();
    const options = { env: { KILOFACE_CACHE_DIR: path.join(scratch, 'cache') }, buildDir, mediasoupDir };
    expect(() => resolveMediasoupWorkerBin(options)).toThrow(BUILD_COMMAND);
  });

  it('does not use a binary cached for other build files', () => {
    const { buildDir, mediasoupDir } = fixture();
    const options = { env: { KILOFACE_CACHE_DIR: path.join(scratch, 'cache') }, buildDir, mediasoupDir };
    const old = cachedWorkerBinaryPath(options);
    mkdirSync(path.dirname(old), { recursive: true });
    writeFileSync(old, '');

    writeFile('build/subprojects/libuv-v1.51.0/meson.build', "project('libuv', 'c') # changed\n");
    expect(() => resolveMediasoupWorkerBin(options)).toThrow(BUILD_COMMAND);
  });
});
