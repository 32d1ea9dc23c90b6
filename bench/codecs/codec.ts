import type { PreparedClip } from '../prepared-clip.ts';

/**
 * One point of a codec's sweep. Standard codecs sweep a target bitrate; the neural codec will
 * sweep its own knobs (quantiser, packet rate, reference policy) through `params`.
 */
export interface OperatingPoint {
  id: string;
  label: string;
  targetKbps: number | null;
  params: Readonly<Record<string, string | number>>;
}

export interface CodecJob {
  clip: PreparedClip;
  point: OperatingPoint;
  /** Folder for this job's files (bitstream, pass logs). */
  workDir: string;
  threads: number;
}

/** What a call would carry, counted from the codec's real output. */
export interface BitCount {
  /** Every byte the receiver needs: coded frames, keyframes/references, parameter sets. */
  payloadBytes: number;
  /** Payload plus transport headers on the wire, and how that was obtained. */
  wireBytes: number;
  wireModel: string;
  /** Optional split of the payload, e.g. { references: n, coefficients: m } for kiloface. */
  breakdown?: Readonly<Record<string, number>>;
  packets: number;
}

export interface CodecRun {
  streamPath: string;
  bits: BitCount;
  /** Decoded yuv420p frames at the input size, one per input frame. */
  decodedFrames: Uint8Array[];
  encodeMs: number;
  decodeMs: number;
  /** Command lines (or a description) that produced the stream, for the report. */
  commands: string[];
  notes: string[];
}

/** Decode cost per frame: elapsed time, and CPU time (robust when the machine is shared). */
export interface DecodeTiming {
  wallMsPerFrame: number;
  cpuMsPerFrame: number;
}

export type Availability = { ok: true; version: string } | { ok: false; reason: string };

/** A codec under test. Adding a codec to the bench means adding one of these to the registry. */
export interface Codec {
  readonly id: string;
  readonly label: string;
  /** Rate control and settings in one line, printed in the report. */
  readonly settings: string;
  /** Which decoder produces the frames that are measured (and timed). */
  readonly decoder: string;
  checkAvailable(): Promise<Availability>;
  operatingPoints(targetsKbps: readonly number[]): OperatingPoint[];
  run(job: CodecJob): Promise<CodecRun>;
  /** Decode-only speed of an existing stream, with `threads` threads. */
  decodeSpeed(streamPath: string, frameCount: number, threads: number): Promise<DecodeTiming>;
}
