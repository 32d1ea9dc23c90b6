import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, parseConfig } from '../../../server/config.ts';

describe('parseConfig', () => {
  it('uses safe defaults: loopback only, port 8080, no TLS; the session key kept in the cache dir', () => {
    expect(parseConfig([], { KILOFACE_CACHE_DIR: '/c' })).toEqual({ ...DEFAULT_CONFIG, sessionKeyFile: '/c/session-key' });
    expect(parseConfig(['--session-key-file', '/k/key'], { KILOFACE_SESSION_KEY_FILE: '/e/key' })).toMatchObject({ sessionKeyFile: '/k/key' });
    expect(parseConfig([], { KILOFACE_SESSION_KEY_FILE: '/e/key' })).toMatchObject({ sessionKeyFile: '/e/key' });
  });

  it('takes flags over environment variables', () => {
    const config = parseConfig(['--port', '9000', '--host', '0.0.0.0'], { KILOFACE_PORT: '7000', KILOFACE_TLS_CERT: 'c.pem', KILOFACE_TLS_KEY: 'k.pem' });
    expect(config).toMatchObject({ port: 9000, host: '0.0.0.0', tlsCert: 'c.pem', tlsKey: 'k.pem' });
    expect(parseConfig([], { PORT: '3000' })).toMatchObject({ port: 3000 });
  });

  it('explains bad values instead of starting half-configured', () => {
    expect(() => parseConfig(['--port', 'http'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--cert', 'c.pem'], {})).toThrow(/both --cert and --key/);
    expect(() => parseConfig(['--ice-servers', '{"urls":1}'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--max-peers', '1'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--bogus'], {})).toThrow();
  });

  it('parses ICE servers for use off localhost', () => {
    expect(parseConfig(['--ice-servers', '[{"urls":"stun:stun.example.org:3478"}]'], {})).toMatchObject({
      iceServers: [{ urls: 'stun:stun.example.org:3478' }],
    });
  });

  it('takes a TURN relay with its shared secret and credential lifetime, never half of it', () => {
    expect(parseConfig(['--turn-url', 'turn:127.0.0.1:3478?transport=udp', '--turn-secret', 'a-secret-of-16-chars', '--turn-ttl', '600'], {})).toMatchObject({
      turn: { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 'a-secret-of-16-chars', ttlSeconds: 600 },
    });
    expect(parseConfig([], { KILOFACE_TURN_URL: 'turn:a:3478,turns:a:5349', KILOFACE_TURN_SECRET: 'a-secret-of-16-chars' })).toMatchObject({ turn: { urls: ['turn:a:3478', 'turns:a:5349'], ttlSeconds: 86_400 } });
    expect(() => parseConfig(['--turn-url', 'turn:a:3478'], {})).toThrow(/both --turn-url and --turn-secret/);
    expect(() => parseConfig(['--turn-url', 'http://a', '--turn-secret', 'a-secret-of-16-chars'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--turn-url', 'turn:a', '--turn-secret', 'short'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--turn-url', 'turn:a', '--turn-secret', 'a-secret-of-16-chars', '--turn-ttl', '5'], {})).toThrow(ConfigError);
  });
});
