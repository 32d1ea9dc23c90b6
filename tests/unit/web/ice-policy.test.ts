import { describe, expect, it } from 'vitest';
import { iceTransportPolicy } from '../../../web/call/ice-policy.ts';

describe('?ice=relay', () => {
  it('forces relayed candidates only when the address asks for it', () => {
    expect(iceTransportPolicy('?name=a&ice=relay')).toBe('relay');
    expect(iceTransportPolicy('?name=a')).toBe('all');
    expect(iceTransportPolicy('?ice=all')).toBe('all');
    expect(iceTransportPolicy('')).toBe('all');
  });
});
