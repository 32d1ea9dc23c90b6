import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Routes that are app pages: the single-page app decides what to show. */
export function isAppRoute(pathname: string): boolean {
  return pathname === '/' || pathname === '/index.html' || /^\/r\/[^/]+\/?$/.test(pathname);
}

/** Page routes other than the call app: `/speed` measures this device's model speed. */
const PAGES: Record<string, string> = { '/speed': 'speed.html' };

/** Under /models/ only the shipped model files are served (ONNX graphs and their JSON manifests), for tools; the app loads its own hashed copies from the build. */
export const MODEL_FILE = /^\/models\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\.(onnx|json)$/;

/** Vite puts a content hash in every file name under assets/: such a file never changes. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Anything else may change under its name: the browser asks each time (a 304 costs a few hundred bytes). */
export const REVALIDATE = 'no-cache';

/** Precompressed variants the build writes beside a file (scripts/precompress.ts), best first. */
const VARIANTS = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;

/** The codings a request accepts (`Accept-Encoding`, q=0 meaning "not this one"). */
export function acceptedEncodings(header: string | string[] | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const part of String(header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name && (q === undefined || Number(q) > 0)) accepted.add(name);
  }
  return accepted;
}

/** Whether `If-None-Match` names this ETag (or `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const weak = (tag: string): string => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || weak(tag) === weak(etag));
}

/** Content hashes of files served under names without one, by path + size + mtime: hashed once per change. */
const etags = new Map<string, string>();

async function contentEtag(file: string, info: Stats, encoding: string | undefined): Promise<string> {
  const key = `${file}\0${info.size}\0${info.mtimeMs}`;
  let hash = etags.get(key);
  if (hash === undefined) {
    hash = createHash('sha256').update(await readFile(file)).digest('base64url').slice(0, 22);
    etags.set(key, hash);
  }
  // Each coding is its own representation, with its own strong ETag.
  return `"${hash}${encoding ? `-${encoding}` : ''}"`;
}

async function fileInfo(file: string): Promise<Stats | undefined> {
  try {
    const info = await stat(file);
    return info.isFile() ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the built app from one folder. Resolves the path and refuses anything that escapes the
 * folder, so `/../../etc/passwd` and its encoded forms get a 404. Sends the precompressed
 * variant the browser accepts, hashed names cached for a year and everything else with an
 * ETag the browser revalidates (304).
 */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  const relative = isAppRoute(pathname) ? 'index.html' : (PAGES[pathname] ?? pathname.replace(/^\/+/, ''));
  const file = path.resolve(root, relative);
  if (file !== root && !file.startsWith(root + path.sep)) return notFound(res);
  const info = await fileInfo(file);
  if (!info) {
    if (relative === 'index.html') {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The app is not built: run "npm run build" (looked in ${root}).\n`);
      return;
    }
    return notFound(res);
  }
  const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  const accepted = acceptedEncodings(req.headers['accept-encoding']);
  let served = { file, info, encoding: undefined as string | undefined };
  let hasVariants = false;
  for (const variant of VARIANTS) {
    const variantInfo = await fileInfo(file + variant.suffix);
    if (!variantInfo) continue;
    hasVariants = true;
    if (accepted.has(variant.encoding) && served.encoding === undefined) served = { file: file + variant.suffix, info: variantInfo, encoding: variant.encoding };
  }
  const immutable = relative.startsWith('assets/');
  const headers: Record<string, string | number> = { 'content-type': type, 'cache-control': immutable ? IMMUTABLE : REVALIDATE };
  // Caches must keep one copy per coding of a file that has several.
  if (hasVariants) headers.vary = 'Accept-Encoding';
  if (served.encoding) headers['content-encoding'] = served.encoding;
  if (!immutable) {
    headers.etag = await contentEtag(file, info, served.encoding);
    if (etagMatches(req.headers['if-none-match'], headers.etag)) {
      delete headers['content-type'];
      res.writeHead(304, headers);
      return void res.end();
    }
  }
  headers['content-length'] = served.info.size;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') return void res.end();
  createReadStream(served.file)
    .on('error', () => res.destroy())
    .pipe(res);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('not found\n');
}
