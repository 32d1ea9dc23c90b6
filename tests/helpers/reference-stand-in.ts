// Reference pictures for stream tests without an image codec: a "picture" is a 256x256 WebP
// header (the receiver checks it before decoding) and a tag naming it; its landmarks are exactly
// the frame's, as if the tracker found them again on the decoded picture.
import { toCropPixels, type CropBox } from '../../codec/geometry/reference-crop.ts';
import type { PreparedReference } from '../../codec/stream/neural-sender.ts';
import { webpLossless } from '../../scripts/fuzz/picture-headers.ts';

export function referenceStandIn(landmarksAt: (frameTimeMs: number) => Float32Array) {
  const pictures = new Map<string, Float32Array>();
  let count = 0;
  return {
    /** SenderHooks.makeReference for frames named by their time. */
    async makeReference(frameTime: number, box: CropBox): Promise<PreparedReference> {
      const bytes = Uint8Array.from([...webpLossless(256, 256), ...new TextEncoder().encode(`picture ${count++}`)]);
      const landmarks = toCropPixels(landmarksAt(frameTime), box);
      pictures.set(new TextDecoder().decode(bytes), landmarks);
      return { format: 'webp', bytes, landmarks };
    },
    /** ReceiverHooks.loadReference: the landmarks of a picture makeReference made. */
    async loadReference(_id: number, _format: string, picture: Uint8Array): Promise<Float32Array> {
      const landmarks = pictures.get(new TextDecoder().decode(picture));
      if (!landmarks) throw new Error('cannot decode');
      return landmarks;
    },
  };
}
