// mediasoup's prebuilt worker (scripts/mediasoup-worker/prebuilt.ts), served by a local HTTP server
// in place of GitHub: installed when it runs here, refused (nothing installed) otherwise.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPrebuiltWorker, prebuiltArchiveName } from '../../scripts/mediasoup-worker/prebuilt.ts';

const VERSION = '3.27.1';
let dir: string;
let server: http.Server;
let base: string;
const archives = new Map<string, Buffer>();

/** A .tgz holding `mediasoup-worker`, a script that exits with `code` (a real worker started without its environment exits 41). */
function workerArchive(name: string, code: number): Buffer {
  const root = path.join(dir, name);
  mkdirSync(path.join(root, 'worker', 'out', 'Release'), { recursive: true });
  const bin = path.join(root, 'worker', 'out', 'Release', 'mediasoup-worker');
  writeFileSync(bin, `#!/bin/sh\nexit ${code}\n`);
  chmodSync(bin, 0o755);
  const tgz = path.join(dir, `${name}.tgz`);
  execFileSync('tar', ['-czf', tgz, '-C', root, 'worker']);
  return readFileSync(tgz);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'prebuilt-test-'));
  server = http.createServer((req, res) => {
    const body = archives.get(req.url ?? '');
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const serve = (prefix: string, body: Buffer): void => void archives.set(`/${prefix}/${VERSION}/${prebuiltArchiveName(VERSION)}`, body);

describe('the prebuilt mediasoup worker', () => {
  it('names the archive the way mediasoup publishes it (the Linux kernel major in the name)', () => {
    expect(prebuiltArchiveName('3.27.1', 'linux', 'x64', '6.1.0-27-amd64')).toBe('mediasoup-worker-3.27.1-linux-x64-kernel6.tgz');
    expect(prebuiltArchiveName('3.27.1', 'darwin', 'arm64', '23.1.0')).toBe('mediasoup-worker-3.27.1-darwin-arm64.tgz');
  });

  it('installs a worker that runs here', async () => {
    serve('good', workerArchive('good', 41));
    const destination = path.join(dir, 'cache-good', 'mediasoup-worker');
    const lines: string[] = [];
    expect(await installPrebuiltWorker({ mediasoupVersion: VERSION, destination, log: (l) => lines.push(l), baseUrl: `${base}/good` })).toBe(true);
    expect(existsSync(destination)).toBe(true);
    expect(lines.at(-1)).toMatch(/Installed mediasoup's prebuilt worker/);
  });

  it('refuses a worker that does not run here, and a missing or broken archive; installs nothing', async () => {
    serve('bad', workerArchive('bad', 127));
    serve('garbage', Buffer.from('not a tar file'));
    for (const [prefix, why] of [
      ['bad', /does not run on this host \(it exited with 127 instead of 41\)/],
      ['garbage', /did not unpack/],
      ['missing', /HTTP 404/],
    ] as const) {
      const destination = path.join(dir, `cache-${prefix}`, 'mediasoup-worker');
      const lines: string[] = [];
      expect(await installPrebuiltWorker({ mediasoupVersion: VERSION, destination, log: (l) => lines.push(l), baseUrl: `${base}/${prefix}` })).toBe(false);
      expect(existsSync(destination)).toBe(false);
      expect(lines.join('\n')).toMatch(why);
    }
  });

  it('gives up on an unreachable host with the reason', async () => {
    const lines: string[] = [];
    // A closed port on this machine: refused at once.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const destination = path.join(dir, 'cache-unreachable', 'mediasoup-worker');
    expect(await installPrebuiltWorker({ mediasoupVersion: VERSION, destination, log: (l) => lines.push(l), baseUrl: `http://127.0.0.1:${port}` })).toBe(false);
    expect(lines.join('\n')).toMatch(/the download failed \(ECONNREFUSED\)/);
  });
});
