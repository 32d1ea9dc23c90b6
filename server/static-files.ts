import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
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

/** onnxruntime-web's WASM and its glue module, served from the installed package. */
export const ORT_FILE = /^\/ort\/ort-wasm-[a-z][a-z.-]*\.(mjs|wasm)$/;

/** Under /models/ only the shipped model files are served (ONNX graphs and their JSON manifests). */
export const MODEL_FILE = /^\/models\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\.(onnx|json)$/;

/**
 * Serves the built app from one folder. Resolves the path and refuses anything that escapes the
 * folder, so `/../../etc/passwd` and its encoded forms get a 404.
 */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  const relative = isAppRoute(pathname) ? 'index.html' : (PAGES[pathname] ?? pathname.replace(/^\/+/, ''));
  const file = path.resolve(root, relative);
  if (file !== root && !file.startsWith(root + path.sep)) return notFound(res);
  let info;
  try {
    info = await stat(file);
  } catch {
    if (relative === 'index.html') {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The app is not built: run "npm run build" (looked in ${root}).\n`);
      return;
    }
    return notFound(res);
  }
  if (!info.isFile()) return notFound(res);
  const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  // Vite puts a content hash in every asset name under assets/, so those never change.
  const cache = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, { 'content-type': type, 'content-length': info.size, 'cache-control': cache });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('not found\n');
}
