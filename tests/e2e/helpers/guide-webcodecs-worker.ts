// The browser side of tests/e2e/guide-webcodecs.test.ts, bundled by the test (esbuild) and run as
// a dedicated worker, where the sender and receiver workers run the guide codec: one encoder and
// one decoder of web/neural/guide-webcodecs.ts, driven from Node one picture at a time
// (playwright's Worker.evaluate), each call timed here so the round trip to Node is not counted.
import { GuideChainError, type GuideChunk, type GuideDecoder, type GuideEncoder, type GuideLayer } from '../../../codec/stream/guide-codec.ts';
import { guideLayerForBrowser, supportedGuideCodecs, webCodecsGuideCodecs, WEBCODECS_CODEC } from '../../../web/neural/guide-webcodecs.ts';

export interface EncodedPicture {
  keyframe: boolean;
  data: number[];
  ms: number;
}

export type DecodedPicture = { rgb: number[]; ms: number } | { error: string; message: string };

let encoder: GuideEncoder | null = null;
let decoder: GuideDecoder | null = null;

const api = {
  supported: (side: number) => supportedGuideCodecs(side),
  /**
   * What the sender worker would send for `layer` in a browser whose WebCodecs lacks the codecs in
   * `missing`: this Chromium's answers to isConfigSupported, with those codecs' turned to "no".
   */
  async layerWithout(layer: GuideLayer, missing: GuideLayer['codec'][]): Promise<Awaited<ReturnType<typeof guideLayerForBrowser>>> {
    const lacks = (config: { codec: string }): boolean => missing.some((c) => config.codec === WEBCODECS_CODEC[c]);
    const [encoderSupported, decoderSupported] = [VideoEncoder.isConfigSupported, VideoDecoder.isConfigSupported];
    VideoEncoder.isConfigSupported = (config) => (lacks(config) ? Promise.resolve({ supported: false, config }) : encoderSupported.call(VideoEncoder, config));
    VideoDecoder.isConfigSupported = (config) => (lacks(config) ? Promise.resolve({ supported: false, config }) : decoderSupported.call(VideoDecoder, config));
    try {
      return await guideLayerForBrowser(layer);
    } finally {
      [VideoEncoder.isConfigSupported, VideoDecoder.isConfigSupported] = [encoderSupported, decoderSupported];
    }
  },
  async open(layer: GuideLayer): Promise<void> {
    encoder?.close();
    decoder?.close();
    encoder = await webCodecsGuideCodecs.encoder(layer);
    decoder = await webCodecsGuideCodecs.decoder(layer);
  },
  /** A fresh decoder, as a receiver that joins late has. */
  async newDecoder(layer: GuideLayer): Promise<void> {
    decoder?.close();
    decoder = await webCodecsGuideCodecs.decoder(layer);
  },
  async encode(rgb: number[], keyframe: boolean): Promise<EncodedPicture> {
    const t0 = performance.now();
    const chunk = await encoder!.encode(Uint8Array.from(rgb), keyframe);
    return { keyframe: chunk.keyframe, data: Array.from(chunk.data), ms: performance.now() - t0 };
  },
  /** `number`: the picture's number as the stream's packets carry it (guide-packet.ts), when the test gives one. */
  async decode(picture: { keyframe: boolean; data: number[]; number?: number }): Promise<DecodedPicture> {
    const t0 = performance.now();
    try {
      const rgb = await decoder!.decode({ keyframe: picture.keyframe, data: Uint8Array.from(picture.data), ...(picture.number === undefined ? {} : { number: picture.number }) } as GuideChunk);
      return { rgb: Array.from(rgb), ms: performance.now() - t0 };
    } catch (e) {
      return { error: e instanceof GuideChainError ? 'GuideChainError' : e instanceof Error ? e.name : 'unknown', message: String(e instanceof Error ? e.message : e) };
    }
  },
  reset(): void {
    decoder!.reset();
  },
  /** Hands every chunk to the decoder before awaiting any (a receiver catching up), in order. */
  async decodeAll(pictures: { keyframe: boolean; data: number[] }[]): Promise<{ decoded: number; ms: number }> {
    const t0 = performance.now();
    const out = await Promise.all(pictures.map((p) => decoder!.decode({ keyframe: p.keyframe, data: Uint8Array.from(p.data) })));
    return { decoded: out.length, ms: performance.now() - t0 };
  },
  close(): void {
    encoder?.close();
    decoder?.close();
  },
};

export type GuideWorkerApi = typeof api;

(globalThis as unknown as { kfGuide: GuideWorkerApi }).kfGuide = api;
postMessage('ready');
