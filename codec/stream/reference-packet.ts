import { fail, ok, PacketType, readPacket, writePacket, type PacketHeader, type Result } from '../bitstream/packet.ts';

// The two packet types of the reference loop (codec/README.md):
//   ReferencePicture  payload: format (1 byte: 1 WebP, 2 JPEG, 3 AVIF), then the image file
//   ReferenceRequest  payload: reason (1 byte), then the UTF-8 id of the peer asked (through an
//                     SFU every peer hears every request, and only the one asked answers)

export type PictureFormat = 'webp' | 'jpeg' | 'avif';
const FORMAT_CODES: Record<PictureFormat, number> = { webp: 1, jpeg: 2, avif: 3 };
const FORMATS = Object.fromEntries(Object.entries(FORMAT_CODES).map(([name, code]) => [code, name])) as Record<number, PictureFormat>;

export const PICTURE_MIME: Record<PictureFormat, string> = { webp: 'image/webp', jpeg: 'image/jpeg', avif: 'image/avif' };

/**
 * Why a receiver asks. 'guide-keyframe' asks for a guide keyframe, not a reference picture: the
 * receiver lost a guide picture (issue 17); a sender that predates the guide layer drops it as a
 * bad field, and an SFU always passes it on to the sender (no cached reference answers it).
 */
export type RequestReason = 'join' | 'missing' | 'decode-failed' | 'unknown-anchor' | 'guide-keyframe';
const REASONS: readonly RequestReason[] = ['join', 'missing', 'decode-failed', 'unknown-anchor', 'guide-keyframe'];

export interface ReferencePicture {
  header: PacketHeader;
  format: PictureFormat;
  picture: Uint8Array;
}

export interface ReferenceRequest {
  header: PacketHeader;
  reason: RequestReason;
  /** The peer whose reference is asked for. */
  target: string;
}

type Header = Omit<PacketHeader, 'type'>;

export function writeReferencePicture(header: Header, format: PictureFormat, picture: Uint8Array): Uint8Array {
  if (picture.length === 0) throw new RangeError('empty reference picture');
  const payload = new Uint8Array(1 + picture.length);
  payload[0] = FORMAT_CODES[format];
  payload.set(picture, 1);
  return writePacket({ ...header, type: PacketType.ReferencePicture }, payload);
}

export function readReferencePicture(bytes: Uint8Array): Result<ReferencePicture> {
  const parsed = readPacket(bytes);
  if (!parsed.ok) return parsed;
  const { payload, ...header } = parsed.value;
  if (header.type !== PacketType.ReferencePicture) return fail('unknown-type', `packet type ${header.type} is not a reference picture`);
  if (payload.length < 2) return fail('truncated', 'reference picture payload shorter than 2 bytes');
  const format = FORMATS[payload[0]!];
  if (!format) return fail('bad-field', `picture format ${payload[0]}`);
  return ok({ header, format, picture: payload.subarray(1) });
}

const MAX_TARGET_BYTES = 64;

export function writeReferenceRequest(header: Header, reason: RequestReason, target: string): Uint8Array {
  const id = new TextEncoder().encode(target);
  if (id.length > MAX_TARGET_BYTES) throw new RangeError('peer id too long');
  const payload = new Uint8Array(1 + id.length);
  payload[0] = REASONS.indexOf(reason);
  payload.set(id, 1);
  return writePacket({ ...header, type: PacketType.ReferenceRequest }, payload);
}

export function readReferenceRequest(bytes: Uint8Array): Result<ReferenceRequest> {
  const parsed = readPacket(bytes);
  if (!parsed.ok) return parsed;
  const { payload, ...header } = parsed.value;
  if (header.type !== PacketType.ReferenceRequest) return fail('unknown-type', `packet type ${header.type} is not a reference request`);
  if (payload.length < 1) return fail('truncated', 'reference request without a reason');
  const reason = REASONS[payload[0]!];
  if (!reason) return fail('bad-field', `request reason ${payload[0]}`);
  if (payload.length - 1 > MAX_TARGET_BYTES) return fail('bad-field', 'peer id too long');
  let target: string;
  try {
    target = new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(1));
  } catch {
    return fail('bad-field', 'peer id is not UTF-8');
  }
  return ok({ header, reason, target });
}

/** The packet type of a codec packet, or undefined when it is not one of ours. */
export function packetType(bytes: Uint8Array): PacketType | undefined {
  const parsed = readPacket(bytes);
  return parsed.ok ? parsed.value.type : undefined;
}
