import { describe, expect, it } from 'vitest';
import { speedVerdict } from '../../../web/speed-verdict.ts';

describe('/speed verdict in words (issue 15 item 7)', () => {
  it('turns the decoder time into faces a second and people at 25 fps', () => {
    expect(speedVerdict(10)).toBe('This device rebuilds ~100 faces a second: enough for 4 people at 25 fps.');
    expect(speedVerdict(39)).toBe('This device rebuilds ~26 faces a second: enough for 1 person at 25 fps.');
    expect(speedVerdict(200)).toMatch(/^This device rebuilds ~5.0 faces a second: not enough for one person at 25 fps/);
  });

  it('adds what tracking our own face costs, and says when there is no decoder figure', () => {
    expect(speedVerdict(20, 12)).toBe('This device rebuilds ~50 faces a second: enough for 2 people at 25 fps. Tracking your own face takes 12 ms a frame: 30% of the time between frames at 25 fps.');
    expect(speedVerdict(undefined, 50)).toMatch(/^The decoder was not measured.*125% of the time between frames at 25 fps, more than there is/);
  });
});
