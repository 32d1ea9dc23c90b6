import type { Codec } from './codec.ts';
import { KilofaceCodec, type KilofaceCodecOptions } from './kiloface-codec.ts';
import type { LadderRung } from './ladder.ts';
import { standardCodecs } from './standard-codecs.ts';

/**
 * Every codec the bench knows: the standard codecs through ffmpeg, and kiloface through codec/
 * on onnxruntime-node (its run() reports its own bit breakdown).
 */
export function allCodecs(kiloface: KilofaceCodecOptions = {}, ladder: readonly LadderRung[] = []): Codec[] {
  return [...standardCodecs(ladder), new KilofaceCodec(kiloface)];
}

export function selectCodecs(ids: readonly string[] | null, kiloface: KilofaceCodecOptions = {}, ladder: readonly LadderRung[] = []): Codec[] {
  const codecs = allCodecs(kiloface, ladder);
  if (!ids) return codecs;
  const unknown = ids.filter((id) => !codecs.some((c) => c.id === id));
  if (unknown.length > 0) {
    throw new Error(`unknown codec(s): ${unknown.join(', ')} (known: ${codecs.map((c) => c.id).join(', ')})`);
  }
  return ids.map((id) => codecs.find((c) => c.id === id)!);
}
