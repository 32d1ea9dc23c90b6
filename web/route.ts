import { LIMITS, type RoomMode } from '../protocol/signalling.ts';
import { DEFAULT_MEDIA_SETTINGS, parseCapKbps, parseVideoCodec, type MediaSettings } from './call/media-settings.ts';

/** What a room link says: `/r/<room>?name=<name>&secret=…&codec=VP9&cap=50&mode=sfu`. */
export interface RoomLink {
  room?: string;
  name?: string;
  secret?: string;
  /** `?mode=sfu`: go through the server even with two people. */
  mode?: RoomMode;
  settings: MediaSettings;
  /** Why the address names no room although it tries to (`/r/%E0%A4%A`, `/r/a b`): for the user. */
  problem?: string;
}

/** The server's rule for room names (server/signalling/validate.ts checks LIMITS.roomName), in words. */
export const ROOM_NAME_RULE = 'Room names are 1-64 letters (A-Z, a-z), digits, "-" or "_": no spaces.';
const INVALID_ROOM = `This room address is not valid. ${ROOM_NAME_RULE} Pick a room below.`;

/**
 * A RegExp as an HTML `pattern` attribute. Browsers compile the attribute with the `v` flag,
 * where a literal "-" in a character class must be escaped: `[A-Za-z0-9_-]` is a syntax error
 * there and the browser then drops the check silently. Anchors are implied by the attribute.
 */
export function htmlPattern(rule: RegExp): string {
  const source = rule.source.replace(/^\^/, '').replace(/\$$/, '');
  return source.replace(/(?<!\\)-\]/g, '\\-]').replace(/\[-/g, '[\\-');
}

/** The room field's pattern: the same rule the server applies. */
export const ROOM_NAME_PATTERN = htmlPattern(LIMITS.roomName);

export function parseRoomLink(location: { pathname: string; search: string }): RoomLink {
  const params = new URLSearchParams(location.search);
  const match = /^\/r\/([^/]+)\/?$/.exec(location.pathname);
  let room: string | undefined;
  let problem: string | undefined;
  try {
    room = match?.[1] ? decodeURIComponent(match[1]) : undefined;
  } catch {
    problem = INVALID_ROOM; // malformed percent-encoding: decodeURIComponent throws URIError
  }
  const link: RoomLink = {
    settings: {
      videoCodec: parseVideoCodec(params.get('codec')) ?? DEFAULT_MEDIA_SETTINGS.videoCodec,
      videoCapKbps: parseCapKbps(params.get('cap')) ?? DEFAULT_MEDIA_SETTINGS.videoCapKbps,
    },
  };
  if (room && LIMITS.roomName.test(room)) link.room = room;
  else if (room) problem = INVALID_ROOM;
  if (problem) link.problem = problem;
  const name = params.get('name')?.trim();
  if (name) link.name = name;
  const secret = params.get('secret');
  if (secret) link.secret = secret;
  const mode = params.get('mode');
  if (mode === 'sfu' || mode === 'p2p') link.mode = mode;
  return link;
}

/**
 * The address to show instead of `location` once its `?secret=` has been read: the same
 * address without it (the secret stays in memory for rejoining), so that it is not left in the
 * address bar, the history, screenshots or a copied link. Undefined when there is none.
 */
export function addressWithoutSecret(location: { pathname: string; search: string; hash: string }): string | undefined {
  const params = new URLSearchParams(location.search);
  if (!params.has('secret')) return undefined;
  params.delete('secret');
  const search = params.toString();
  return `${location.pathname}${search ? `?${search}` : ''}${location.hash}`;
}

/** The shareable address of a room: never includes the secret or the name. */
export function roomPath(room: string): string {
  return `/r/${encodeURIComponent(room)}`;
}

export function randomRoomName(): string {
  const words = ['amber', 'birch', 'cedar', 'delta', 'ember', 'fjord', 'grove', 'harbor', 'iris', 'juniper'];
  const word = words[Math.floor(Math.random() * words.length)] ?? 'room';
  return `${word}-${Math.floor(1000 + Math.random() * 9000)}`;
}

export function signallingUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}
