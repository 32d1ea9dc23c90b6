// The signalling protocol: JSON text messages over one WebSocket per browser tab. Both ends import
// it (protocol/ imports nothing but types); the server validates every incoming message against it.
import type { SfuMethod, SfuNotification, SfuRequests } from './sfu.ts';

export const PROTOCOL_VERSION = 1;

export interface PeerInfo {
  id: string;
  name: string;
}

/** Returned by a successful join; lets a tab whose socket dropped take its place back. */
export interface ResumeTicket {
  peerId: string;
  token: string;
}

/** P2P mesh for two people, an SFU above that or when someone asks for it. */
export type RoomMode = 'p2p' | 'sfu';

export type ClientMessage =
  | { type: 'join'; room: string; name: string; secret?: string; resume?: ResumeTicket; mode?: RoomMode }
  | { [M in SfuMethod]: { type: 'sfu'; id: number; method: M; data: SfuRequests[M]['params'] } }[SfuMethod]
  | { type: 'signal'; to: string; data: unknown }
  | { type: 'leave' }
  | { type: 'ping' };

export type ErrorCode =
  | 'bad-json'
  | 'bad-message'
  | 'too-large'
  | 'rate-limited'
  | 'room-full'
  | 'wrong-secret'
  | 'not-joined'
  | 'already-joined'
  | 'unknown-peer'
  | 'resume-failed';

export interface IceServerConfig {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export type ServerMessage =
  | {
      type: 'welcome';
      protocol: number;
      room: string;
      self: PeerInfo;
      resume: ResumeTicket;
      /** True when an earlier session of this tab was taken back: its peer connections still stand. */
      resumed: boolean;
      /**
       * The server restarted and took this tab back under its old id from its ticket: the others are
       * coming back too, so connections to people not yet listed should be kept a while.
       */
      restored: boolean;
      /** Whether the room is protected by a secret (set by whoever created it). */
      secured: boolean;
      mode: RoomMode;
      peers: PeerInfo[];
      maxPeers: number;
      /** Whether the server runs its SFU; without it a room of three or more stays a P2P mesh. */
      sfu: boolean;
      iceServers: IceServerConfig[];
    }
  | { type: 'peer-joined'; peer: PeerInfo }
  | { type: 'mode'; mode: RoomMode }
  /** `data` is the method's result (protocol/sfu.ts), `{}` for those that return nothing. */
  | { type: 'sfu-response'; id: number; ok: true; data: Exclude<SfuRequests[SfuMethod]['result'], void> | Record<string, never> }
  | { type: 'sfu-response'; id: number; ok: false; error: string }
  | ({ type: 'sfu-notify' } & SfuNotification)
  | { type: 'peer-left'; peerId: string; reason: 'left' | 'timeout' }
  | { type: 'signal'; from: string; data: unknown }
  | { type: 'error'; code: ErrorCode; message: string }
  | { type: 'pong' }
  | { type: 'shutdown'; message: string };

export const LIMITS = {
  /** Largest message we read; an SDP with many codecs is ~10 kB. */
  maxMessageBytes: 64 * 1024,
  roomName: /^[A-Za-z0-9_-]{1,64}$/,
  maxNameLength: 40,
  maxSecretLength: 128,
  peerId: /^[A-Za-z0-9_-]{8,64}$/,
} as const;
