import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, PacketType, readPacket, wrappingDelta16, writePacket } from '../../../codec/bitstream/packet.ts';

describe('packet header', () => {
  it('round-trips every field, wrapping the timestamp to 16 bits', () => {
    const bytes = writePacket({ type: PacketType.GeometryFrames, sequence: 65535, timestampMs: 70_000, referenceId: 200 }, new Uint8Array([9, 8, 7]));
    expect(bytes.length).toBe(HEADER_BYTES + 3);
    const parsed = readPacket(bytes);
    expect(parsed).toMatchObject({ ok: true, value: { type: PacketType.GeometryFrames, sequence: 65535, timestampMs: 70_000 - 65536, referenceId: 200 } });
    if (parsed.ok) expect([...parsed.value.payload]).toEqual([9, 8, 7]);
  });

  it('rejects short, foreign-version and unknown-type packets with typed errors', () => {
    const good = writePacket({ type: PacketType.NoFace, sequence: 1, timestampMs: 0, referenceId: 0 }, new Uint8Array());
    const codeOf = (bytes: Uint8Array): string | undefined => {
      const r = readPacket(bytes);
      return r.ok ? undefined : r.error.code;
    };
    expect(codeOf(good.subarray(0, 5))).toBe('truncated');
    expect(codeOf(Uint8Array.from(good, (b, i) => (i === 0 ? (2 << 4) | (b & 15) : b)))).toBe('unsupported-version');
    expect(codeOf(Uint8Array.from(good, (b, i) => (i === 0 ? (1 << 4) | 15 : b)))).toBe('unknown-type');
    expect(codeOf(new Uint8Array(70_000))).toBe('too-large');
  });

  it('refuses to write out-of-range fields', () => {
    expect(() => writePacket({ type: PacketType.NoFace, sequence: 65536, timestampMs: 0, referenceId: 0 }, new Uint8Array())).toThrow(RangeError);
    expect(() => writePacket({ type: PacketType.NoFace, sequence: 0, timestampMs: 0, referenceId: 256 }, new Uint8Array())).toThrow(RangeError);
  });

  it('measures distances on the wrapping counter', () => {
    expect(wrappingDelta16(65530, 4)).toBe(10);
    expect(wrappingDelta16(4, 65530)).toBe(-10);
    expect(wrappingDelta16(100, 100)).toBe(0);
  });
});
