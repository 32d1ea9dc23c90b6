import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// Issue 15: `npm run bench:encoder` printed NaN when its clips were missing. It must name what is
// missing and exit non-zero, before loading any model.

const ROOT = resolve(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

async function encoderBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [join(ROOT, 'bench/encoder-bench.ts'), ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe.concurrent('bench:encoder with missing inputs', () => {
  it('names a missing manifest and exits 1', async () => {
    const data = await mkdtemp(join(tmpdir(), 'kf-encoder-bench-'));
    dirs.push(data);
    const r = await encoderBench(['--data', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(data, 'MANIFEST.tsv'));
    expect(r.stdout + r.stderr).not.toContain('NaN');
  }, 60_000);

  it('names the missing clip files and exits 1', async () => {
    const data = await mkdtemp(join(tmpdir(), 'kf-encoder-bench-'));
    dirs.push(data);
    const header = 'file\tkind\twidth\theight\tfps\tframes\tperson';
    await writeFile(join(data, 'MANIFEST.tsv'), `${header}\nnot-here.mp4\ttalking-head\t256\t256\t25\t100\tP99\n`);
    const r = await encoderBench(['--data', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(data, 'clips', 'not-here.mp4'));
    expect(r.stdout + r.stderr).not.toContain('NaN');
  }, 60_000);
});
