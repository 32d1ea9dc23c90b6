import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, parseConfig } from '../../../server/config.ts';

describe('parseConfig', () => {
  it('uses safe defaults: loopback only, port 8080, no TLS', () => {
    expect(parseConfig([], {})).toEqual(DEFAULT_CONFIG);
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
});
