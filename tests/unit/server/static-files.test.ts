import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precompressFolder } from '../../../scripts/precompress.ts';
import { acceptedEncodings, etagMatches, IMMUTABLE, REVALIDATE, serveStatic } from '../../../server/static-files.ts';

const page = '<!doctype html><title>kiloface</title>' + '<p>a call that fits a 2G link</p>'.repeat(100);
const script = 'export const greeting = "hello";\n'.repeat(500);
let root: string;
let cacheDir: string;
let server: http.Server;
let base: string;

function get(pathname: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .request(`${base}${pathname}`, { headers, method }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject)
      .end();
  });
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'kiloface-static-'));
  cacheDir = mkdtempSync(path.join(tmpdir(), 'kiloface-precompressed-'));
  mkdirSync(path.join(root, 'assets'));
  writeFileSync(path.join(root, 'index.html'), page);
  writeFileSync(path.join(root, 'assets', 'main-AbC123.js'), script);
  writeFileSync(path.join(root, 'assets', 'noise-XyZ789.wasm'), randomBytes(4096));
  await precompressFolder(root, cacheDir);
  server = http.createServer((req, res) => void serveStatic(root, req, res, new URL(req.url ?? '/', 'http://x').pathname));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('static files: compression and caching', () => {
  it('sends a hashed asset brotli-compressed, cached for a year, when the browser accepts br', async () => {
    const res = await get('/assets/main-AbC123.js', { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['cache-control']).toBe(IMMUTABLE);
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(res.body.length).toBeLessThan(script.length / 10);
    expect(zlib.brotliDecompressSync(res.body).toString()).toBe(script);
  });

  it('falls back to gzip, then to the file as it is', async () => {
    const gz = await get('/assets/main-AbC123.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.body).toString()).toBe(script);
    const plain = await get('/assets/main-AbC123.js', { 'accept-encoding': 'br;q=0, identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(script);
    expect(plain.headers.vary).toBe('Accept-Encoding');
  });

  it('keeps no compressed copy of a file that does not shrink', async () => {
    const res = await get('/assets/noise-XyZ789.wasm', { 'accept-encoding': 'br, gzip' });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers.vary).toBeUndefined();
    expect(res.headers['content-type']).toBe('application/wasm');
    expect(res.body.length).toBe(4096);
  });

  it('revalidates the page (not hashed) with an ETag per coding and answers 304 without a body', async () => {
    const br = await get('/r/room', { 'accept-encoding': 'br' });
    expect(br.headers['cache-control']).toBe(REVALIDATE);
    expect(br.headers['content-encoding']).toBe('br');
    const etag = br.headers.etag!;
    expect(etag).toMatch(/^"[\w-]+-br"$/);
    const plain = await get('/');
    expect(plain.headers.etag).not.toBe(etag);
    expect(plain.body.toString()).toBe(page);

    const again = await get('/r/room', { 'accept-encoding': 'br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(etag);
    expect(again.headers['cache-control']).toBe(REVALIDATE);
    // A changed page gets a new ETag: the old one no longer matches.
    writeFileSync(path.join(root, 'index.html'), page + '<!-- v2 -->');
    const changed = await get('/r/room', { 'if-none-match': plain.headers.etag! });
    expect(changed.status).toBe(200);
    expect(changed.body.toString()).toContain('v2');
    writeFileSync(path.join(root, 'index.html'), page);
  });

  it('answers HEAD with headers only, and still refuses paths out of the folder', async () => {
    const head = await get('/assets/main-AbC123.js', { 'accept-encoding': 'br' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
    expect((await get('/../../etc/passwd')).status).toBe(404);
    expect((await get('/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
  });
});

describe('request headers', () => {
  it('reads Accept-Encoding with q-values', () => {
    expect([...acceptedEncodings('gzip, deflate, br')]).toEqual(['gzip', 'deflate', 'br']);
    expect(acceptedEncodings('br;q=0, gzip;q=0.5').has('br')).toBe(false);
    expect(acceptedEncodings('br;q=0, gzip;q=0.5').has('gzip')).toBe(true);
    expect(acceptedEncodings(undefined).size).toBe(0);
  });

  it('matches If-None-Match lists, weak tags and *', () => {
    expect(etagMatches('"a", "b-br"', '"b-br"')).toBe(true);
    expect(etagMatches('W/"b-br"', '"b-br"')).toBe(true);
    expect(etagMatches('*', '"x"')).toBe(true);
    expect(etagMatches('"b"', '"b-br"')).toBe(false);
    expect(etagMatches(undefined, '"b"')).toBe(false);
  });
});
