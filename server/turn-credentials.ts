// Short-lived TURN credentials (the "TURN REST API" scheme that coturn implements with
// `use-auth-secret` / `static-auth-secret`): the username is `<expiry unix seconds>:<user>` and
// the password is base64(HMAC-SHA1(secret, username)). The relay checks both itself, so the page
// never holds a lasting password, and one past its expiry is refused.
import { createHmac } from 'node:crypto';
import type { IceServerConfig } from '../protocol/signalling.ts';

export interface TurnConfig {
  /** TURN URLs handed to browsers, e.g. `turn:turn.example.org:3478?transport=udp`. */
  urls: string[];
  /** The secret shared with coturn's `static-auth-secret`. */
  secret: string;
  /** How long a credential lasts, in seconds. */
  ttlSeconds: number;
}

export function turnCredential(secret: string, user: string, expiresAtSeconds: number): { username: string; credential: string } {
  const username = `${Math.floor(expiresAtSeconds)}:${user}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

/** The TURN entry of a peer's ICE servers, valid for `ttlSeconds` from `nowMs`. */
export function turnIceServer(turn: TurnConfig, user: string, nowMs = Date.now()): IceServerConfig {
  return { urls: turn.urls, ...turnCredential(turn.secret, user, nowMs / 1000 + turn.ttlSeconds) };
}
