import { LIMITS, type RoomMode } from '../server/signalling/protocol.ts';
import { DEFAULT_MEDIA_SETTINGS, parseCapKbps, parseVideoCodec, type MediaSettings } from './call/media-settings.ts';

/** What a room link says: `/r/<room>?name=<name>&secret=…&codec=VP9&cap=50&mode=sfu`. */
export interface RoomLink {
  room?: string;
  name?: string;
  secret?: string;
  /** `?mode=sfu`: go through the server even with two people. */
  mode?: RoomMode;
  settings: MediaSettings;
}

export function parseRoomLink(location: { pathname: string; search: string }): RoomLink {
  const params = new URLSearchParams(location.search);
  const match = /^\/r\/([^/]+)\/?$/.exec(location.pathname);
  const room = match?.[1] ? decodeURIComponent(match[1]) : undefined;
  const link: RoomLink = {
    settings: {
      videoCodec: parseVideoCodec(params.get('codec')) ?? DEFAULT_MEDIA_SETTINGS.videoCodec,
      videoCapKbps: parseCapKbps(params.get('cap')) ?? DEFAULT_MEDIA_SETTINGS.videoCapKbps,
    },
  };
  if (room && LIMITS.roomName.test(room)) link.room = room;
  const name = params.get('name')?.trim();
  if (name) link.name = name;
  const secret = params.get('secret');
  if (secret) link.secret = secret;
  const mode = params.get('mode');
  if (mode === 'sfu' || mode === 'p2p') link.mode = mode;
  return link;
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
