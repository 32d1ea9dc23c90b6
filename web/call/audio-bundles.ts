// Kiloface frame bundles inside the call's Opus packets (issue 16 item 4), on the page's side: one
// encoded-transform worker for the page, a route per connection. Where the browser has no
// RTCRtpScriptTransform (or with `?audioBundles=off`), nothing here runs and the bundles stay on
// the `frames` datachannel.
import type { AudioTransformOptions, FromAudioWorker, ToAudioWorker } from './audio-bundle-protocol.ts';

export interface AudioBundleRoute {
  /** Bundles taken out of this connection's incoming audio. */
  received(bundle: Uint8Array): void;
  /** A bundle that found no audio frame in time: it goes by datachannel. */
  fallback(bundle: Uint8Array): void;
  /** Bundles that went out inside audio frames, and the bytes they added to those frames. */
  carried(count: number, bytes: number): void;
}

type ScriptTransformConstructor = new (worker: Worker, options: AudioTransformOptions) => unknown;

function scriptTransform(): ScriptTransformConstructor | undefined {
  return (globalThis as unknown as { RTCRtpScriptTransform?: ScriptTransformConstructor }).RTCRtpScriptTransform;
}

export class AudioBundleCarrier {
  private static shared: AudioBundleCarrier | undefined;

  /**
   * The page's carrier where the browser has encoded transforms, unless `?audioBundles=off`. On by
   * default: measured while talking on a quiet machine it saved 3.7 kbit/s per direction (README).
   */
  static forPage(): AudioBundleCarrier | undefined {
    if (!scriptTransform() || typeof Worker === 'undefined') return undefined;
    if (new URLSearchParams(globalThis.location?.search ?? '').get('audioBundles') === 'off') return undefined;
    return (AudioBundleCarrier.shared ??= new AudioBundleCarrier());
  }

  private readonly worker: Worker;
  private readonly routes = new Map<string, AudioBundleRoute>();

  private constructor() {
    this.worker = new Worker(new URL('./audio-bundle-worker.ts', import.meta.url), { type: 'module', name: 'kiloface audio bundles' });
    this.worker.onmessage = ({ data: message }: MessageEvent<FromAudioWorker>) => {
      const route = this.routes.get(message.key);
      if (!route) return;
      if (message.type === 'received') for (const bundle of message.bundles) route.received(bundle);
      else if (message.type === 'fallback') route.fallback(message.bytes);
      else route.carried(message.count, message.bytes);
    };
  }

  /** Routes connection `key`'s bundles; returns the function that ends the route. */
  open(key: string, route: AudioBundleRoute): () => void {
    this.routes.set(key, route);
    return () => {
      if (this.routes.get(key) === route) this.routes.delete(key);
      this.post({ type: 'drop', key });
    };
  }

  /** Puts the transform on an audio sender (appends) or receiver (always strips). */
  transform(endpoint: RTCRtpSender | RTCRtpReceiver, key: string, side: AudioTransformOptions['side']): void {
    const Transform = scriptTransform()!;
    const target = endpoint as unknown as { transform: unknown };
    if (target.transform) return;
    try {
      target.transform = new Transform(this.worker, { key, side });
    } catch (error) {
      // A sender without it sees no frames, so its bundles fall back to the datachannel at once.
      console.warn(`audio ${side} transform failed`, error);
    }
  }

  /** Hands a bundle to the next audio frame of connection `key` (or back through `fallback`). */
  send(key: string, bundle: Uint8Array): void {
    const bytes = bundle.slice();
    this.post({ type: 'bundle', key, bytes }, [bytes.buffer]);
  }

  private post(message: ToAudioWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }
}
