import { describe, expect, it } from 'vitest';
import { ReconnectPolicy } from '../../../web/call/reconnect-policy.ts';

describe('ReconnectPolicy', () => {
  it('doubles from 0.5 s to a ceiling of 8 s, and starts over after a success', () => {
    const policy = new ReconnectPolicy(500, 8000, () => 0);
    expect(Array.from({ length: 7 }, () => policy.nextDelayMs())).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
    policy.reset();
    expect(policy.nextDelayMs()).toBe(500);
  });

  it('stretches each delay by up to a quarter, so a room does not reconnect in one instant', () => {
    expect(new ReconnectPolicy(500, 8000, () => 0.999).nextDelayMs()).toBe(625);
    const delays = Array.from({ length: 200 }, () => new ReconnectPolicy().nextDelayMs());
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...delays)).toBeLessThanOrEqual(625);
    expect(new Set(delays).size).toBeGreaterThan(10);
  });
});
