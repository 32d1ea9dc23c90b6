import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../../../bench/progress.ts';

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) };
}

describe('ProgressBar', () => {
  it('off a terminal: one plain line at each tenth of the way, the last at 100%', () => {
    const out = sink(false);
    const bar = new ProgressBar('encode', 40, out);
    for (let i = 1; i <= 40; i++) bar.update(i);
    bar.finish();
    expect(out.writes).toHaveLength(10);
    expect(out.writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    expect(out.writes[0]).toMatch(/^encode \[##\.{22}\] 4\/40 frames {2}10% \d+\.\d fps, \d+s elapsed, ETA \d+s\n$/);
    expect(out.writes.at(-1)).toMatch(/^encode \[#{24}\] 40\/40 frames 100% /);
  });

  it('a job that stops early still ends with a line saying how far it got', () => {
    const out = sink(false);
    const bar = new ProgressBar('decode', 100, out);
    bar.update(5);
    bar.finish();
    expect(out.writes).toEqual([expect.stringMatching(/^decode \[#?\.+\] 5\/100 frames {3}5% .* ETA \S+\n$/)]);
  });

  it('on a terminal: redrawn in place, and a newline when it ends', () => {
    const out = sink(true);
    const bar = new ProgressBar('decode', 3, out);
    bar.update(1);
    bar.update(3);
    bar.finish();
    expect(out.writes[0]).toMatch(/^\rdecode \[#{8}\.{16}\] 1\/3 frames {2}33% .*\x1b\[K$/);
    expect(out.writes.at(-1)).toMatch(/^\rdecode \[#{24}\] 3\/3 frames 100% .*\x1b\[K\n$/);
    expect(out.writes.join('')).not.toMatch(/NaN/);
  });
});
