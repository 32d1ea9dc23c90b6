import type { Codec } from './codec.ts';
import { standardCodecs } from './standard-codecs.ts';

/**
 * Every codec the bench knows. The neural codec joins by adding its Codec here (its run()
 * encodes with codec/ through onnxruntime-node and reports its own bit breakdown).
 */
export function allCodecs(): Codec[] {
  return [...standardCodecs()];
}

export function selectCodecs(ids: readonly string[] | null): Codec[] {
  const codecs = allCodecs();
  if (!ids) return codecs;
  const unknown = ids.filter((id) => !codecs.some((c) => c.id === id));
  if (unknown.length > 0) {
    throw new Error(`unknown codec(s): ${unknown.join(', ')} (known: ${codecs.map((c) => c.id).join(', ')})`);
  }
  return ids.map((id) => codecs.find((c) => c.id === id)!);
}
