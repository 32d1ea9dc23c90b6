// Messages between the page and the neural-stream workers (sender-worker.ts, receiver-worker.ts).
import type { CodecChannel } from '../../codec/transport.ts';
import type { RateMode } from '../../codec/stream/rate-modes.ts';
import type { RequestReason } from '../../codec/stream/reference-packet.ts';
import type { SenderStats } from '../../codec/stream/neural-sender.ts';
import type { ReceiverStats } from '../../codec/stream/neural-receiver.ts';
import type { TrackEvery } from './tracking-pace.ts';

export type ToSender =
  /** `selfCheck`: the port to the closed-loop check's worker (self-check-worker.ts). */
  | { type: 'start'; mode: RateMode; loss: number; keepCrops: boolean; threads: number; selfCheck: MessagePort }
  | { type: 'frame'; bitmap: ImageBitmap; slotMs: number }
  /** The camera as a stream of VideoFrames (MediaStreamTrackProcessor): the worker takes what it can handle. */
  | { type: 'camera'; frames: ReadableStream<VideoFrame> }
  | { type: 'request'; reason: RequestReason }
  | { type: 'mode'; mode: RateMode }
  | { type: 'loss'; fraction: number }
  /** How many people can receive us now: with nobody there, packets are not sent (or counted). */
  | { type: 'audience'; links: number }
  /** The video mode sends no kiloface now (standard): camera frames are dropped unread, nothing is tracked or sent. */
  | { type: 'paused'; paused: boolean }
  /** Track every camera frame (1) or every other one (2: this device is short of CPU, tracking-pace.ts). */
  | { type: 'pace'; trackEvery: TrackEvery }
  | { type: 'crop'; id: number; slotMs: number };

export interface SenderStatus {
  stats: SenderStats;
  /** Camera frames the tracker handled per second, and its mean time per frame (ms). */
  trackedFps: number;
  trackMs: number;
  /** The pace the page set (tracking-pace.ts). */
  trackEvery: TrackEvery;
  face: boolean;
  /** How long the tracker has looked and found no face (ms; 0 with a face, or while paused): the page hints "face the camera". */
  noFaceMs: number;
  /** Longest wall-clock time between two geometry packets handed to the transport in this status period (ms; 0 without two). */
  maxSendGapMs: number;
  /** Wall-clock time (ms since the epoch) of frame slot 0, so a receiver on the same machine can measure latency. */
  slotOriginEpochMs: number | undefined;
}

export type FromSender =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  | { type: 'frame-done'; slotMs: number }
  | { type: 'packet'; channel: CodecChannel; bytes: Uint8Array }
  | { type: 'status'; status: SenderStatus }
  | { type: 'crop'; id: number; pixels: Uint8ClampedArray<ArrayBuffer> | null };

/**
 * `arrivedEpochMs`: when the page got the packet (ms since the epoch). The worker handles it only
 * between two pictures, so this says whether the stream is flowing even while the decoder lags.
 */
export type ToReceiver = { type: 'start'; threads: number } | { type: 'packet'; channel: CodecChannel; bytes: Uint8Array; arrivedEpochMs: number } | { type: 'stop' };

/** What a receiver is doing, for the tile's notice: sent whenever it changes. */
export type ReceiverState =
  /** Fetching the models: files done of those asked for, bytes so far (and in all, when known). */
  | { kind: 'download'; files: number; filesTotal: number; bytes: number; bytesTotal: number | undefined }
  /** The model files are here; onnxruntime is building its sessions. */
  | { kind: 'compile' }
  /** Ready, with nothing to show: no reference yet, no frames for it yet, or the sender sees no face and so sends no reference. */
  | { kind: 'waiting'; reason: 'no-reference' | 'no-frames' | 'no-face' }
  /** The sender's stream says it sees no face (after a reference). */
  | { kind: 'no-face' }
  | { kind: 'face' }
  /** No packet has come for a while: the picture is held. Never sent while packets come and only our decoder is behind. */
  | { kind: 'stalled' };

export interface ReceiverStatus {
  stats: ReceiverStats;
  /** Pictures decoded per second, and the decoder's mean time per picture (ms). */
  decodedFps: number;
  decodeMs: number;
  backend: string;
  /**
   * In the status period: pictures drawn, and pictures the stream had for us (one per 40 ms slot
   * with a face, counted while packets came). Fewer drawn than due: our decoder is behind.
   * `guided`: those drawn with a guide picture (issue 17's guide layer).
   */
  pictures: { drawn: number; due: number; guided: number };
}

export type FromReceiver =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  /** `stale`: held past concealment while no packet came (the stream, not our decoder, stopped). */
  | { type: 'frame'; bitmap: ImageBitmap; senderTimeMs: number; concealed: boolean; stale: boolean }
  | { type: 'state'; state: ReceiverState }
  | { type: 'request'; reason: RequestReason }
  | { type: 'status'; status: ReceiverStatus };

/** The sender's worker to the self-check worker: the current reference, then checks against it. */
export type ToSelfCheck =
  | { type: 'reference'; picture: Uint8ClampedArray<ArrayBuffer>; landmarks: Float32Array }
  | { type: 'check'; id: number; crop: Uint8ClampedArray<ArrayBuffer>; landmarks: Float32Array };

export type FromSelfCheck = { type: 'ready' } | { type: 'psnr'; id: number; db: number } | { type: 'error'; message: string };
