import { describe, expect, it } from 'vitest';
import { PACE, TrackingPace, type ReceiverLoad } from '../../../web/neural/tracking-pace.ts';

const starved: ReceiverLoad = { decodedFps: 9, decodeMs: 100 }; // busy 90 % of the second, 9 faces
const keepingUp: ReceiverLoad = { decodedFps: 15, decodeMs: 60 }; // busy 90 %, but 15 faces
const idle: ReceiverLoad = { decodedFps: 25, decodeMs: 15 }; // busy 37.5 %
const quietStream: ReceiverLoad = { decodedFps: 3, decodeMs: 30 }; // few pictures to rebuild, decoder mostly idle

function run(pace: TrackingPace, seconds: number, receivers: ReceiverLoad[]): number[] {
  return Array.from({ length: seconds }, () => pace.next(receivers));
}

describe('the tracker pace (tracking-pace.ts)', () => {
  it('tracks every frame while the receivers keep up, have little to do, or there are none', () => {
    for (const receivers of [[keepingUp], [idle], [quietStream], []]) expect(run(new TrackingPace(), 30, receivers)).toEqual(Array(30).fill(1));
  });

  it('tracks every other frame after a receiver is starved for a few seconds in a row, not after one bad second', () => {
    const pace = new TrackingPace();
    expect(run(pace, PACE.slowAfterS - 1, [idle, starved])).toEqual(Array(PACE.slowAfterS - 1).fill(1));
    expect(pace.next([idle])).toBe(1); // the streak is broken
    expect(run(pace, PACE.slowAfterS, [starved]).at(-1)).toBe(2);
  });

  it('goes back to every frame only after the receivers had room for a while, and stays slow while they use what it freed', () => {
    const pace = new TrackingPace();
    run(pace, PACE.slowAfterS, [starved]);
    expect(run(pace, 30, [keepingUp])).toEqual(Array(30).fill(2));
    expect(run(pace, PACE.fullAfterS - 1, [idle])).toEqual(Array(PACE.fullAfterS - 1).fill(2));
    expect(pace.next([idle])).toBe(1);
    expect(pace.trackEvery).toBe(1);
  });
});
