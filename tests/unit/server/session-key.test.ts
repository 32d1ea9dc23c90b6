import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSessionKey } from '../../../server/session-key.ts';

describe('loadSessionKey', () => {
  it('makes the key on first start (owner-only), and gives the same key after a restart', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'session-key-')), 'sub', 'session-key');
    const first = loadSessionKey(file, () => {});
    expect(first.length).toBe(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadSessionKey(file, () => {})).toEqual(first);
  });

  it('replaces a key too short to trust, and says when a key cannot be kept', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'session-key-'));
    const short = path.join(dir, 'short');
    writeFileSync(short, 'abc');
    const lines: string[] = [];
    expect(loadSessionKey(short, (l) => lines.push(l)).length).toBe(32);
    expect(lines[0]).toMatch(/too short/);
    // A path under a file cannot be written: a random key, and a warning.
    const blocked = path.join(short, 'key');
    lines.length = 0;
    expect(loadSessionKey(blocked, (l) => lines.push(l)).length).toBe(32);
    expect(lines.join('\n')).toMatch(/session key not kept/);
  });
});
