import type { PacketLink } from '../../codec/transport.ts';
import type { StatsEntry, StatsSnapshot } from '../stats/peer-stats.ts';
import type { VideoModeState } from './video-mode.ts';

/** What a peer tells the others about itself (through the signalling server, in both modes). */
export interface PeerState {
  muted: boolean;
  cameraOff: boolean;
  /** Which video they send and why (absent until they say). */
  video?: VideoModeState;
  /** Their audio receivers (P2P and SFU) strip kiloface bundles from Opus frames, so ours may carry them. */
  stripsAudioBundles?: boolean;
}

export const DEFAULT_PEER_STATE: PeerState = { muted: false, cameraOff: false };

export type ParticipantEvents = {
  stream: [MediaStream];
  connect: [];
  /** The connection is gone (failed, or closed by either side). */
  close: [reason: string];
  'link-open': [];
};

/**
 * One remote person as the UI and the codec see them, whichever transport carries them:
 * a P2P connection (RemotePeer) or their streams through the SFU (SfuParticipant).
 */
export interface RemoteParticipant extends PacketLink {
  readonly name: string;
  readonly remoteStream: MediaStream | undefined;
  readonly connected: boolean;
  on<E extends keyof ParticipantEvents>(event: E, listener: (...args: ParticipantEvents[E]) => void): () => void;
  /** getStats() entries that concern this person (what we receive from and send to them). */
  getStats(): Promise<StatsSnapshot | undefined>;
}

export function toSnapshot(report: RTCStatsReport): Map<string, StatsEntry> {
  const snapshot = new Map<string, StatsEntry>();
  report.forEach((entry: StatsEntry) => snapshot.set(entry.id, entry));
  return snapshot;
}
