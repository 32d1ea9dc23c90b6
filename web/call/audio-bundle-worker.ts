// The encoded-transform worker (RTCRtpScriptTransform): appends waiting kiloface bundles to each
// outgoing Opus frame and strips them from every incoming one before the Opus decoder.
import { appendBundles, MAX_BUNDLE_BYTES_PER_FRAME, MAX_BUNDLES_PER_FRAME, stripBundles } from '../../codec/audio-bundle-trailer.ts';
import { OPUS_PTIME_MS } from '../../protocol/opus-speech.ts';
import type { AudioTransformOptions, FromAudioWorker, ToAudioWorker } from './audio-bundle-protocol.ts';

/**
 * A bundle waits at most about one audio frame for a ride: later, the voice is silent (DTX sends no
 * frames) or the audio stalled, and the datachannel is faster than waiting.
 */
const MAX_WAIT_MS = OPUS_PTIME_MS + 20;

interface EncodedFrame {
  data: ArrayBuffer;
}
interface Transformer {
  readonly readable: ReadableStream<EncodedFrame>;
  readonly writable: WritableStream<EncodedFrame>;
  readonly options: AudioTransformOptions;
}

interface Waiting {
  bytes: Uint8Array;
  timer: ReturnType<typeof setTimeout>;
}

const scope = self as unknown as {
  onrtctransform: ((event: { transformer: Transformer }) => void) | null;
  onmessage: ((event: MessageEvent<ToAudioWorker>) => void) | null;
  postMessage(message: FromAudioWorker, transfer?: Transferable[]): void;
};

const waiting = new Map<string, Waiting[]>();
/** When each connection last sent an audio frame. */
const lastFrameAt = new Map<string, number>();

function fallBack(key: string, item: Waiting): void {
  const queue = waiting.get(key);
  const at = queue?.indexOf(item) ?? -1;
  if (at < 0) return;
  queue!.splice(at, 1);
  scope.postMessage({ type: 'fallback', key, bytes: item.bytes });
}

scope.onmessage = ({ data: message }) => {
  if (message.type === 'drop') {
    for (const item of waiting.get(message.key) ?? []) clearTimeout(item.timer);
    waiting.delete(message.key);
    lastFrameAt.delete(message.key);
    return;
  }
  const { key, bytes } = message;
  const last = lastFrameAt.get(key);
  // No frame for a while: silence, so the next one is not coming soon. Too big to ride: datachannel too.
  if (last === undefined || performance.now() - last > MAX_WAIT_MS || bytes.length > MAX_BUNDLE_BYTES_PER_FRAME) {
    scope.postMessage({ type: 'fallback', key, bytes });
    return;
  }
  let queue = waiting.get(key);
  if (!queue) waiting.set(key, (queue = []));
  const item: Waiting = { bytes, timer: setTimeout(() => fallBack(key, item), MAX_WAIT_MS) };
  queue.push(item);
};

scope.onrtctransform = ({ transformer }) => {
  const { key, side } = transformer.options;
  const transform =
    side === 'send'
      ? (frame: EncodedFrame): EncodedFrame => {
          lastFrameAt.set(key, performance.now());
          const queue = waiting.get(key);
          if (!queue?.length) return frame;
          let count = 0;
          let bytes = 0;
          while (count < queue.length && count < MAX_BUNDLES_PER_FRAME && bytes + queue[count]!.bytes.length <= MAX_BUNDLE_BYTES_PER_FRAME) bytes += queue[count++]!.bytes.length;
          // The rest waits for the next frame (or its timer sends it by datachannel).
          const riding = queue.splice(0, count);
          if (riding.length === 0) return frame;
          for (const item of riding) clearTimeout(item.timer);
          const added = -frame.data.byteLength;
          const framed = appendBundles(new Uint8Array(frame.data), riding.map((item) => item.bytes));
          frame.data = framed.buffer as ArrayBuffer;
          scope.postMessage({ type: 'carried', key, count: riding.length, bytes: added + framed.byteLength });
          return frame;
        }
      : (frame: EncodedFrame): EncodedFrame => {
          const { media, bundles } = stripBundles(new Uint8Array(frame.data));
          if (bundles.length === 0) return frame;
          frame.data = media.slice().buffer;
          scope.postMessage({ type: 'received', key, bundles: bundles.map((b) => b.slice()) });
          return frame;
        };
  void transformer.readable
    .pipeThrough(new TransformStream<EncodedFrame, EncodedFrame>({ transform: (frame, controller) => controller.enqueue(transform(frame)) }))
    .pipeTo(transformer.writable)
    .catch(() => undefined); // the connection closed
};
