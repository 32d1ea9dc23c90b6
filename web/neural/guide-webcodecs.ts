// The guide layer's codec in the browser (issue 17): WebCodecs' VideoEncoder / VideoDecoder, in
// the sender and receiver workers (or a page). Configured as close as WebCodecs allows to the
// ffmpeg settings the decoder's training guides were made with (models/train/data/guides.py):
// realtime latency (libaom/libvpx realtime, no look-ahead), the target bitrate in the rate-control
// mode ffmpeg ended up in (measured with `ffmpeg -v debug`: libaom realtime is CBR, libvpx-vp9
// with only -b:v is VBR), software codecs, and no keyframe but the first and those asked for.
//
// Pictures go in and come out as I420 that this file converts itself (codec/yuv420.ts, BT.601
// limited range like ffmpeg's yuv420p): an RGBX VideoFrame would leave the matrix, range and
// chroma filter to Chromium's own conversion, which the training guides never went through, and
// the codecs code 4:2:0 anyway.
import { GuideChainError, type GuideChunk, type GuideCodecName, type GuideCodecs, type GuideDecoder, type GuideEncoder, type GuideLayer } from '../../codec/stream/guide-codec.ts';
import { guideNumberDelta } from '../../codec/stream/guide-packet.ts';
import { i420ToRgb, rgbToI420 } from '../../codec/yuv420.ts';
import guideVariants from '../../models/train/data/guide-variants.json';

/** WebCodecs codec strings: AV1 main profile level 4.0 8-bit, VP9 profile 0 level 1.0 8-bit. */
export const WEBCODECS_CODEC: Record<GuideCodecName, string> = { av1: 'av01.0.04M.08', vp9: 'vp09.00.10.08' };

/** AV1 first; VP9 where AV1 is missing (the decoder was trained on a VP9 variant too). */
export const GUIDE_CODEC_PREFERENCE: readonly GuideCodecName[] = ['av1', 'vp9'];

/**
 * A decoder that gives no picture for this long while chunks wait has lost its way (at lag 0 it
 * holds none back). Counted from the last picture out (or from the chunk, when none waited), not
 * from each chunk: the receiver hands over many chunks at once when it falls behind, and the
 * newest of 30 waits for the 29 before it. Generous: in a receiver worker each step of a decode
 * waits for the event loop, which the rebuild network blocks for 100-700 ms at a time on a loaded
 * machine, and a fresh decoder's first picture takes several steps (measured in a call: over 2 s).
 */
const DECODE_TIMEOUT_MS = 10_000;

const BT601_LIMITED: VideoColorSpaceInit = { primaries: 'smpte170m', transfer: 'smpte170m', matrix: 'smpte170m', fullRange: false };

function encoderConfig(layer: GuideLayer): VideoEncoderConfig {
  return {
    codec: WEBCODECS_CODEC[layer.codec],
    width: layer.side,
    height: layer.side,
    bitrate: Math.round(layer.kbps * 1000),
    bitrateMode: layer.codec === 'av1' ? 'constant' : 'variable',
    framerate: layer.fps,
    latencyMode: 'realtime',
    hardwareAcceleration: 'prefer-software',
    scalabilityMode: 'L1T1',
  };
}

function decoderConfig(layer: GuideLayer): VideoDecoderConfig {
  return {
    codec: WEBCODECS_CODEC[layer.codec],
    codedWidth: layer.side,
    codedHeight: layer.side,
    hardwareAcceleration: 'prefer-software',
    optimizeForLatency: true,
  };
}

/** The guide codecs (in preference order) this browser both encodes and decodes at `side` px. */
export async function supportedGuideCodecs(side: number): Promise<GuideCodecName[]> {
  if (typeof VideoEncoder === 'undefined' || typeof VideoDecoder === 'undefined') return [];
  const out: GuideCodecName[] = [];
  for (const codec of GUIDE_CODEC_PREFERENCE) {
    const layer: GuideLayer = { codec, side, fps: 10, kbps: 8 };
    const [enc, dec] = await Promise.all([
      VideoEncoder.isConfigSupported(encoderConfig(layer)).catch(() => ({ supported: false })),
      VideoDecoder.isConfigSupported(decoderConfig(layer)).catch(() => ({ supported: false })),
    ]);
    if (enc.supported && dec.supported) out.push(codec);
  }
  return out;
}

async function requireSupport(layer: GuideLayer, role: 'encoder' | 'decoder'): Promise<void> {
  const Api = role === 'encoder' ? globalThis.VideoEncoder : globalThis.VideoDecoder;
  if (typeof Api === 'undefined') throw new Error(`this browser has no WebCodecs Video${role === 'encoder' ? 'Encoder' : 'Decoder'}: the guide layer needs it (use a geometry-only mode)`);
  const { supported } = role === 'encoder' ? await VideoEncoder.isConfigSupported(encoderConfig(layer)) : await VideoDecoder.isConfigSupported(decoderConfig(layer));
  if (supported) return;
  const others = (await supportedGuideCodecs(layer.side)).filter((c) => c !== layer.codec);
  throw new Error(
    `this browser's WebCodecs ${role} does not support ${layer.codec} (${WEBCODECS_CODEC[layer.codec]}) at ${layer.side}x${layer.side} px; ` +
      (others.length ? `it does support ${others.join(', ')}: pick a guide mode with that codec` : 'nor any other guide codec (AV1, VP9): use a geometry-only mode'),
  );
}

/** The trained VP9 variant (guide-variants.json, the one list guides.py and the bench read): what a browser without AV1 sends instead. */
export const VP9_GUIDE_LAYER: GuideLayer = (() => {
  const variants = Object.values(guideVariants.variants) as unknown as Array<[number, number, GuideCodecName, number]>;
  const found = variants.find(([, , codec]) => codec === 'vp9');
  if (!found) throw new Error('models/train/data/guide-variants.json has no vp9 variant');
  const [side, fps, , kbps] = found;
  return { codec: 'vp9', side, fps, kbps };
})();

/**
 * A mode's guide layer as this browser can send it: as asked where it encodes and decodes that
 * codec, else the trained VP9 variant where it has VP9, else none (geometry only); `note` says
 * why it changed, for the page.
 */
export async function guideLayerForBrowser(layer: GuideLayer | undefined): Promise<{ layer: GuideLayer | undefined; note?: string }> {
  if (!layer) return { layer };
  if ((await supportedGuideCodecs(layer.side)).includes(layer.codec)) return { layer };
  if ((await supportedGuideCodecs(VP9_GUIDE_LAYER.side)).includes('vp9')) {
    return { layer: VP9_GUIDE_LAYER, note: `this browser cannot code ${layer.codec} guide pictures with WebCodecs: sending the VP9 guide (48 px) instead` };
  }
  return { layer: undefined, note: `this browser's WebCodecs codes neither AV1 nor VP9 guide pictures: sending geometry only` };
}

const errorOf = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** Runs async jobs one at a time, in call order: the encoder matches its outputs to inputs by order. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

class WebCodecsGuideEncoder implements GuideEncoder {
  private encoder: VideoEncoder | null = null;
  private readonly chunks: EncodedVideoChunk[] = [];
  private failure: Error | null = null;
  private readonly serial = new Serial();
  private readonly i420: Uint8Array<ArrayBuffer>;
  private index = 0;
  private closed = false;

  constructor(private readonly layer: GuideLayer) {
    this.i420 = new Uint8Array((layer.side * layer.side * 3) / 2);
  }

  /** A fresh VideoEncoder (at start, and after one failed: WebCodecs closes an encoder that errs). */
  private open(): VideoEncoder {
    this.failure = null;
    this.chunks.length = 0;
    const encoder = new VideoEncoder({
      output: (chunk) => this.chunks.push(chunk),
      error: (e) => {
        this.failure = errorOf(e);
      },
    });
    encoder.configure(encoderConfig(this.layer));
    return encoder;
  }

  encode(rgb: Uint8Array, keyframe: boolean): Promise<GuideChunk> {
    return this.serial.run(async () => {
      if (this.closed) throw new Error('the guide encoder is closed');
      const { side, fps } = this.layer;
      if (rgb.length !== side * side * 3) throw new Error(`guide encoder: ${rgb.length} bytes for a ${side}x${side} RGB picture (expected ${side * side * 3})`);
      let forceKey = keyframe;
      if (!this.encoder || this.encoder.state === 'closed') {
        this.encoder = this.open();
        forceKey = true;
      }
      rgbToI420(rgb, side, side, this.i420);
      const frame = new VideoFrame(this.i420, {
        format: 'I420',
        codedWidth: side,
        codedHeight: side,
        // The rate control reads time from the timestamps: the layer's picture rate.
        timestamp: Math.round((this.index * 1e6) / fps),
        duration: Math.round(1e6 / fps),
        colorSpace: BT601_LIMITED,
      });
      this.index++;
      try {
        this.encoder.encode(frame, { keyFrame: forceKey });
      } finally {
        frame.close();
      }
      // flush() resolves once every output of the frames before it came: one picture in, one
      // chunk out. (A software encoder at lag 0 holds nothing back, so it costs a task hop.)
      try {
        await this.encoder.flush();
      } catch (e) {
        throw new Error(`guide encoder (${this.layer.codec}) failed: ${(this.failure ?? errorOf(e)).message}`);
      }
      const out = this.chunks.splice(0);
      if (out.length !== 1) throw new Error(`guide encoder (${this.layer.codec}) gave ${out.length} chunks for one picture`);
      const chunk = out[0]!;
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      return { keyframe: chunk.type === 'key', data };
    });
  }

  close(): void {
    this.closed = true;
    if (this.encoder && this.encoder.state !== 'closed') this.encoder.close();
    this.encoder = null;
  }
}

interface Waiting {
  resolve(frame: VideoFrame): void;
  reject(error: Error): void;
}

/** A chunk as the stream's packets carry it (guide-packet.ts BundledGuide): numbered, so a gap is seen. */
type NumberedChunk = GuideChunk & { number?: number };

class WebCodecsGuideDecoder implements GuideDecoder {
  private decoder: VideoDecoder | null = null;
  /** Chunks given to the VideoDecoder whose pictures have not come yet, oldest first. */
  private readonly waiting: Waiting[] = [];
  /** Fails the decoder when no picture comes out for DECODE_TIMEOUT_MS while chunks wait. */
  private stallTimer: ReturnType<typeof setTimeout> | undefined;
  /** True while every picture since the last keyframe went in: a delta picture may follow. */
  private chained = false;
  /** The number of the last chunk that went in, when chunks carry numbers. */
  private lastNumber: number | undefined;
  private index = 0;
  private closed = false;

  constructor(private readonly layer: GuideLayer) {}

  private open(): VideoDecoder {
    const decoder = new VideoDecoder({
      output: (frame) => {
        const w = this.waiting.shift();
        if (!w) return frame.close();
        this.watchForStall(true);
        w.resolve(frame);
      },
      error: (e) => this.fail(errorOf(e)),
    });
    decoder.configure(decoderConfig(this.layer));
    return decoder;
  }

  /** (Re)arms the stall timer: after a picture came out (restart), or for a chunk that found none waiting. */
  private watchForStall(restart: boolean): void {
    if (restart) {
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
    }
    if (this.waiting.length === 0 || this.stallTimer !== undefined) return;
    this.stallTimer = setTimeout(() => this.fail(new Error(`no picture for ${DECODE_TIMEOUT_MS} ms while ${this.waiting.length} waited`)), DECODE_TIMEOUT_MS);
  }

  /** The decoder is unusable (WebCodecs closed it, or it lost a picture): the next must be a keyframe. */
  private fail(error: Error): void {
    this.chained = false;
    this.lastNumber = undefined;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    for (const w of this.waiting.splice(0)) w.reject(error);
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    this.decoder = null;
  }

  /**
   * The chunk goes to the VideoDecoder at once, in call order, so a caller may hand over several
   * before the first picture is back (each picture back costs a turn of this thread's event loop,
   * which a busy receiver worker gives rarely); pictures come back in the same order.
   */
  decode(chunk: NumberedChunk): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('the guide decoder is closed'));
    const numbered = typeof chunk.number === 'number';
    // A delta picture needs its predecessor: every chunk since a keyframe, in order (numbers without a gap, where they come with them).
    const gap = numbered && this.lastNumber !== undefined && guideNumberDelta(this.lastNumber, chunk.number!) !== 1;
    if (!chunk.keyframe && (!this.chained || gap)) {
      this.chained = false;
      return Promise.reject(new GuideChainError('a delta guide picture without its keyframe or predecessor: waiting for a keyframe'));
    }
    if (!this.decoder || this.decoder.state === 'closed') this.decoder = this.open();
    const side = this.layer.side;
    const picture = new Promise<VideoFrame>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.watchForStall(false);
    this.chained = true;
    this.lastNumber = numbered ? chunk.number : undefined;
    try {
      this.decoder.decode(new EncodedVideoChunk({ type: chunk.keyframe ? 'key' : 'delta', timestamp: Math.round((this.index++ * 1e6) / this.layer.fps), data: chunk.data }));
    } catch (e) {
      this.fail(errorOf(e)); // rejects this picture too, and breaks the chain
    }
    return picture.then(
      async (frame) => {
        try {
          return await rgbOfFrame(frame, side);
        } finally {
          frame.close();
        }
      },
      (e: unknown) => {
        throw new GuideChainError(`the guide decoder (${this.layer.codec}) failed on a ${chunk.keyframe ? 'keyframe' : 'delta picture'} (${errorOf(e).message}): waiting for a keyframe`);
      },
    );
  }

  reset(): void {
    this.chained = false;
    this.lastNumber = undefined;
  }

  close(): void {
    this.closed = true;
    this.fail(new Error('the guide decoder was closed'));
  }
}

/** A decoded side x side frame (I420 or NV12, what software decoders give) as packed RGB. */
async function rgbOfFrame(frame: VideoFrame, side: number): Promise<Uint8Array> {
  if (frame.visibleRect?.width !== side || frame.visibleRect?.height !== side) {
    throw new Error(`guide decoder gave a ${frame.visibleRect?.width}x${frame.visibleRect?.height} picture (expected ${side}x${side})`);
  }
  const luma = side * side;
  const quarter = luma / 4;
  const i420 = new Uint8Array(luma + 2 * quarter);
  if (frame.format === 'I420' || frame.format === 'I420A') {
    // Tight planes straight into place (the alpha plane of I420A is left out).
    await frame.copyTo(i420, { layout: [{ offset: 0, stride: side }, { offset: luma, stride: side / 2 }, { offset: luma + quarter, stride: side / 2 }] });
  } else if (frame.format === 'NV12') {
    const nv12 = new Uint8Array(luma + 2 * quarter);
    await frame.copyTo(nv12, { layout: [{ offset: 0, stride: side }, { offset: luma, stride: side }] });
    i420.set(nv12.subarray(0, luma));
    for (let i = 0; i < quarter; i++) {
      i420[luma + i] = nv12[luma + 2 * i]!;
      i420[luma + quarter + i] = nv12[luma + 2 * i + 1]!;
    }
  } else {
    throw new Error(`guide decoder gave pixel format ${frame.format}, not I420 or NV12`);
  }
  return i420ToRgb(i420, side, side);
}

/** The guide layer's codecs on WebCodecs (a page or a worker). */
export const webCodecsGuideCodecs: GuideCodecs = {
  async encoder(layer: GuideLayer): Promise<GuideEncoder> {
    await requireSupport(layer, 'encoder');
    return new WebCodecsGuideEncoder(layer);
  },
  async decoder(layer: GuideLayer): Promise<GuideDecoder> {
    await requireSupport(layer, 'decoder');
    return new WebCodecsGuideDecoder(layer);
  },
};
