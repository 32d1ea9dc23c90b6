// Vite plugin: after a build, writes `<file>.br` and `<file>.gz` beside each compressible file of
// the output folder, so the server sends compressed bytes without compressing on each request
// (server/static-files.ts). Brotli at its best setting takes ~30-70 s for onnxruntime's WASM on a
// 2-core machine, so results are kept in a cache folder by content hash: a rebuild costs only
// the hashing.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Plugin } from 'vite';

/** Types worth compressing (source maps are for developers and stay as they are). */
export const COMPRESSIBLE = /\.(html|js|mjs|css|json|wasm|onnx|svg|txt)$/;
/** Smaller files gain too little for the extra request-time choice. */
const MIN_BYTES = 1024;
/** A variant is kept only if it saves at least this fraction. */
const MIN_SAVING = 0.05;

export const ENCODINGS = {
  br: (bytes: Buffer) =>
    promisify(zlib.brotliCompress)(bytes, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
        [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }),
  gz: (bytes: Buffer) => promisify(zlib.gzip)(bytes, { level: 9 }),
} as const;

export const DEFAULT_CACHE_DIR = path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'kiloface', 'precompressed');

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (entry.isFile()) yield full;
  }
}

/** Compressed variants of one file's bytes: from the cache, or made now and cached. */
async function variant(bytes: Buffer, encoding: keyof typeof ENCODINGS, cacheDir: string): Promise<Buffer> {
  const cached = path.join(cacheDir, `${createHash('sha256').update(bytes).digest('hex')}.${encoding}`);
  if (existsSync(cached)) return readFileSync(cached);
  const compressed = await ENCODINGS[encoding](bytes);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${cached}.tmp`, compressed);
  renameSync(`${cached}.tmp`, cached); // no half-written entry if the build is stopped
  return compressed;
}

/** Writes the .br/.gz variants for every compressible file under `dir`; returns bytes before and after (brotli). */
export async function precompressFolder(dir: string, cacheDir = DEFAULT_CACHE_DIR): Promise<{ files: number; bytes: number; brotli: number }> {
  const totals = { files: 0, bytes: 0, brotli: 0 };
  const work = [...files(dir)]
    .filter((file) => COMPRESSIBLE.test(file) && statSync(file).size >= MIN_BYTES)
    .map(async (file) => {
      const bytes = readFileSync(file);
      totals.files++;
      totals.bytes += bytes.length;
      let best = bytes.length;
      for (const encoding of Object.keys(ENCODINGS) as (keyof typeof ENCODINGS)[]) {
        const compressed = await variant(bytes, encoding, cacheDir);
        if (compressed.length > bytes.length * (1 - MIN_SAVING)) continue;
        writeFileSync(`${file}.${encoding}`, compressed);
        if (encoding === 'br') best = compressed.length;
      }
      totals.brotli += best;
    });
  await Promise.all(work);
  return totals;
}

export function precompress(cacheDir = DEFAULT_CACHE_DIR): Plugin {
  let outDir = '';
  let log: (line: string) => void = () => {};
  return {
    name: 'kiloface:precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
      log = (line) => config.logger.info(line);
    },
    async closeBundle() {
      const started = performance.now();
      const totals = await precompressFolder(outDir, cacheDir);
      log(`precompressed ${totals.files} files: ${(totals.bytes / 1e6).toFixed(1)} MB -> ${(totals.brotli / 1e6).toFixed(1)} MB (brotli) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    },
  };
}
