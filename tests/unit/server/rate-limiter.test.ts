import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../server/signalling/rate-limiter.ts';

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 5, () => now);
    const burst = Array.from({ length: 8 }, () => limiter.take());
    expect(burst).toEqual([true, true, true, true, true, false, false, false]);
    now += 100; // 0.1 s at 10/s refills one token
    expect(limiter.take()).toBe(true);
    expect(limiter.take()).toBe(false);
    now += 10_000; // refills to the burst, never beyond
    expect(Array.from({ length: 6 }, () => limiter.take()).filter(Boolean)).toHaveLength(5);
  });
});
