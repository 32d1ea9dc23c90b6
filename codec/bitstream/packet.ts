// The kiloface packet: a 6-byte header and a payload. Documented in codec/README.md.
//
//   byte 0     version (high 4 bits) | packet type (low 4 bits)
//   bytes 1-2  sequence number, uint16 big-endian, wraps
//   bytes 3-4  timestamp of the (first) frame, milliseconds modulo 65536, uint16 big-endian
//   byte 5     reference id: which reference picture the geometry applies to
//   bytes 6…   payload, by type

export const PACKET_VERSION = 1;
export const HEADER_BYTES = 6;
/** Larger than any packet we make: a datachannel message beyond it is not ours. */
export const MAX_PACKET_BYTES = 64 * 1024;

export enum PacketType {
  /** Range-coded geometry of 1-16 frames, predicted from an anchor (unreliable channel). */
  GeometryFrames = 1,
  /** Geometry coded without prediction: the base later frames are predicted from (reliable channel). */
  GeometryAnchor = 2,
  /** The sender sees no face: the receiver holds the last picture and says so. */
  NoFace = 3,
  /** A reference picture (an image file) the geometry after it applies to (reliable channel). */
  ReferencePicture = 4,
  /** Receiver to sender: please send a new reference picture (reliable channel). */
  ReferenceRequest = 5,
  /**
   * GeometryFrames with guide pictures inside (unreliable channel, codec/stream/guide-packet.ts):
   * a type of its own, so a receiver that predates the guide layer drops it as an unknown type
   * instead of misreading the guide bytes as geometry.
   */
  GeometryFramesGuided = 6,
}

export interface PacketHeader {
  type: PacketType;
  sequence: number;
  timestampMs: number;
  referenceId: number;
}

export interface Packet extends PacketHeader {
  payload: Uint8Array;
}

export type PacketErrorCode =
  | 'truncated'
  | 'too-large'
  | 'unsupported-version'
  | 'unknown-type'
  | 'bad-field'
  | 'unknown-anchor'
  | 'corrupt-payload';

/** Why a packet was rejected. Decoders return it; they never throw out of the receive loop. */
export class PacketError extends Error {
  constructor(
    readonly code: PacketErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PacketError';
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: PacketError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(code: PacketErrorCode, message: string): Result<T> => ({ ok: false, error: new PacketError(code, message) });

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} must be an integer in 0..${max}, got ${value}`);
}

export function writePacket(header: PacketHeader, payload: Uint8Array): Uint8Array {
  checkUint('sequence', header.sequence, 0xffff);
  checkUint('referenceId', header.referenceId, 0xff);
  const bytes = new Uint8Array(HEADER_BYTES + payload.length);
  bytes[0] = (PACKET_VERSION << 4) | header.type;
  bytes[1] = header.sequence >> 8;
  bytes[2] = header.sequence & 0xff;
  const t = ((Math.round(header.timestampMs) % 65536) + 65536) % 65536;
  bytes[3] = t >> 8;
  bytes[4] = t & 0xff;
  bytes[5] = header.referenceId;
  bytes.set(payload, HEADER_BYTES);
  return bytes;
}

export function readPacket(bytes: Uint8Array): Result<Packet> {
  if (bytes.length < HEADER_BYTES) return fail('truncated', `packet of ${bytes.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (bytes.length > MAX_PACKET_BYTES) return fail('too-large', `packet of ${bytes.length} bytes`);
  const version = bytes[0]! >> 4;
  if (version !== PACKET_VERSION) return fail('unsupported-version', `packet version ${version}, this decoder reads ${PACKET_VERSION}`);
  const type = bytes[0]! & 0x0f;
  if (!(type in PacketType)) return fail('unknown-type', `packet type ${type}`);
  return ok({
    type: type as PacketType,
    sequence: (bytes[1]! << 8) | bytes[2]!,
    timestampMs: (bytes[3]! << 8) | bytes[4]!,
    referenceId: bytes[5]!,
    payload: bytes.subarray(HEADER_BYTES),
  });
}

/** Distance from a to b on a 16-bit wrapping counter, in -32768..32767. */
export function wrappingDelta16(a: number, b: number): number {
  return ((((b - a) % 65536) + 65536 + 32768) % 65536) - 32768;
}
