// The signalling protocol: JSON text messages over one WebSocket per browser tab.
// The browser imports only the types; the server validates every incoming message against them.

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

/** Requests a browser makes of the SFU (see server/sfu/sfu-service.ts). */
export const SFU_METHODS = [
  'router-capabilities',
  'create-transport',
  'connect-transport',
  'produce',
  'produce-data',
  'close-producer',
  'ready',
  'resume-consumer',
] as const;
export type SfuMethod = (typeof SFU_METHODS)[number];

export type SfuNotification =
  | { method: 'new-consumer'; data: { peerId: string; id: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: unknown } }
  | { method: 'new-data-consumer'; data: { peerId: string; id: string; dataProducerId: string; sctpStreamParameters: unknown; label: string; protocol: string } }
  | { method: 'consumer-closed'; data: { id: string } }
  /** The room's media server went away (worker died): build the SFU session again. */
  | { method: 'restart'; data: { reason: string } };

export type ClientMessage =
  | { type: 'join'; room: string; name: string; secret?: string; resume?: ResumeTicket; mode?: RoomMode }
  | { type: 'sfu'; id: number; method: SfuMethod; data: Record<string, unknown> }
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
      /** Whether the room is protected by a secret (set by whoever created it). */
      secured: boolean;
      mode: RoomMode;
      peers: PeerInfo[];
      maxPeers: number;
      iceServers: IceServerConfig[];
    }
  | { type: 'peer-joined'; peer: PeerInfo }
  | { type: 'mode'; mode: RoomMode }
  | { type: 'sfu-response'; id: number; ok: true; data: unknown }
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
