import { describe, expect, it } from 'vitest';
import { turnCredential, turnIceServer } from '../../../server/turn-credentials.ts';

describe('TURN REST API credentials', () => {
  it('signs "<expiry>:<user>" with HMAC-SHA1 of the shared secret, base64 (as coturn checks it)', () => {
    // Expected value from `echo -n "1700000000:alice" | openssl dgst -sha1 -hmac north-sea-secret -binary | base64`.
    expect(turnCredential('north-sea-secret', 'alice', 1_700_000_000)).toEqual({ username: '1700000000:alice', credential: 'Or2+y4pClBAA8mU3e93KEtAPsJs=' });
  });

  it('expires ttl seconds from now, and differs per user and per secret', () => {
    const turn = { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 's3cret', ttlSeconds: 600 };
    const server = turnIceServer(turn, 'bob', 1_700_000_000_500);
    expect(server.urls).toEqual(turn.urls);
    expect(server.username).toBe('1700000600:bob');
    expect(server.credential).not.toBe(turnIceServer(turn, 'carol', 1_700_000_000_500).credential);
    expect(server.credential).not.toBe(turnIceServer({ ...turn, secret: 'other' }, 'bob', 1_700_000_000_500).credential);
  });
});
