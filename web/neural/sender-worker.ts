// The sending half of the neural stream, off the page's main thread: camera frames in, codec
// packets out. Tracker and reference pictures run here; the closed-loop check in self-check-worker.ts.
import type { CropBox } from '../../codec/geometry/reference-crop.ts';
import { FRAME_SLOT_MS } from '../../codec/shipped.ts';
import { areaDownscale } from '../../codec/stream/guide-codec.ts';
import { NeuralSender, type PreparedReference } from '../../codec/stream/neural-sender.ts';
import type { RateMode } from '../../codec/stream/rate-modes.ts';
import { guideLayerForBrowser, webCodecsGuideCodecs } from './guide-webcodecs.ts';
import { cropPixels, decodeReference, encodePicture, pixelsOf, type RgbaImage } from './pictures.ts';
import { loadGeometry, loadTracker } from './models.ts';
import { receiveOnnxWasm } from '../runtime/onnx-web.ts';
import type { FromSelfCheck, FromSender, SenderStatus, ToSelfCheck, ToSender } from './protocol.ts';
import type { TrackEvery } from './tracking-pace.ts';

receiveOnnxWasm(); // before any message handler of ours

const post = (message: FromSender, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(message, transfer);

/** Largest camera frame width the tracker gets (bigger frames are scaled down first). */
const MAX_TRACK_WIDTH = 640;
/** Recent frames kept for tests and tools that compare sent and rebuilt pictures (when asked): 2.4 s. */
const FRAMES_KEPT = 60;
const STATUS_MS = 1000;
/** With no face in view the detector runs at most this often (ms): no need to burn a core. */
const SEARCH_INTERVAL_MS = 200;

/** The mode with its guide layer as this browser's WebCodecs can code it (the page hears when it had to change). */
async function browserMode(mode: RateMode): Promise<RateMode> {
  const { layer, note } = await guideLayerForBrowser(mode.guide);
  if (note) post({ type: 'error', message: note });
  return { ...mode, guide: layer };
}

async function start(init: Extract<ToSender, { type: 'start' }>): Promise<void> {
  const [{ geometry, coding }, tracker, pictureTracker, mode] = await Promise.all([loadGeometry(), loadTracker(true, init.threads), loadTracker(false, 1), browserMode(init.mode)]);
  // The closed loop runs in its own worker (self-check-worker.ts), which loads its decoder behind
  // the first frames; until it is ready, checks pass.
  const selfCheck = init.selfCheck;
  let selfCheckReady = false;
  let nextCheck = 0;
  const pendingChecks = new Map<number, (db: number) => void>();
  selfCheck.onmessage = ({ data: message }: MessageEvent<FromSelfCheck>) => {
    if (message.type === 'ready') selfCheckReady = true;
    else if (message.type === 'error') post({ type: 'error', message: message.message });
    else {
      pendingChecks.get(message.id)?.(message.db);
      pendingChecks.delete(message.id);
    }
  };
  // postMessage copies what it does not transfer: the reference stays ours, the crop is made for the check.
  const toSelfCheck = (message: ToSelfCheck, transfer: Transferable[] = []): void => selfCheck.postMessage(message, transfer);
  let decoderReference: PreparedReference | undefined;
  let latestReference: { prepared: PreparedReference; picture: RgbaImage } | undefined;
  const recentFrames = new Map<number, { image: RgbaImage; box: CropBox }>();

  const sender = new NeuralSender<RgbaImage>(
    { geometry, coding, mode, simulatedLoss: init.loss, guideCodecs: webCodecsGuideCodecs },
    {
      send(channel, bytes) {
        if (audience === 0) return false;
        if (channel === 'frames') {
          // Where a geometry gap starts: here (tracker or self-check stalls) or on the way.
          const now = performance.now();
          if (lastFramesSentMs !== undefined) maxSendGapMs = Math.max(maxSendGapMs, now - lastFramesSentMs);
          lastFramesSentMs = now;
        }
        post({ type: 'packet', channel, bytes }, [bytes.buffer]);
        return true;
      },
      async makeReference(frame: RgbaImage, box: CropBox, quality: number): Promise<PreparedReference | undefined> {
        const bytes = await encodePicture(cropPixels(frame, box), 'webp', quality);
        const decoded = await decodeReference(pictureTracker, bytes, 'webp');
        if (!decoded) return undefined;
        const prepared: PreparedReference = { format: 'webp', bytes, landmarks: decoded.landmarks };
        latestReference = { prepared, picture: decoded.picture };
        return { ...prepared, bytes: bytes.slice() }; // the packet's copy is transferred away
      },
      // The guide layer's picture: the crop the landmarks are in, area-downscaled as the training guides were.
      guidePicture(frame: RgbaImage, box: CropBox, side: number): Uint8Array {
        return areaDownscale(cropPixels(frame, box).data, side, 4);
      },
      checkQuality(frame: RgbaImage, box: CropBox, landmarks: Float32Array): Promise<number> {
        const latest = latestReference;
        if (!latest || !selfCheckReady) return Promise.resolve(Infinity);
        if (decoderReference !== latest.prepared) {
          toSelfCheck({ type: 'reference', picture: latest.picture.data, landmarks: latest.prepared.landmarks });
          decoderReference = latest.prepared;
        }
        const id = nextCheck++;
        const crop = cropPixels(frame, box).data;
        return new Promise<number>((resolve) => {
          pendingChecks.set(id, resolve);
          toSelfCheck({ type: 'check', id, crop, landmarks }, [crop.buffer]);
        });
      },
    },
  );
  // A reference that cannot be made leaves receivers waiting, a guide picture that cannot be coded
  // leaves them with geometry only: say so (each at most every 30 s; retries go on).
  const lastNoticeMs = { reference: -Infinity, guide: -Infinity };
  sender.events.on('error', (failure) => {
    if (failure.kind === 'quality-check' || performance.now() - lastNoticeMs[failure.kind] < 30_000) return;
    lastNoticeMs[failure.kind] = performance.now();
    post({
      type: 'error',
      message:
        failure.kind === 'reference'
          ? `kiloface could not make a reference picture (${failure.message}); the others wait for one, retrying`
          : `kiloface could not code a guide picture (${failure.message}); retrying with a keyframe`,
    });
  });

  let modeChange: Promise<void> = Promise.resolve();
  let lastFramesSentMs: number | undefined;
  let maxSendGapMs = 0;
  let busy = false;
  let tracked = 0;
  let trackMsTotal = 0;
  let face = false;
  /** When the tracker last started to find no face (performance.now), while it looks. */
  let noFaceSince: number | undefined;
  let lastSearchMs = -Infinity;
  let audience = 0;
  let paused = false;
  let trackEvery: TrackEvery = 1;
  let slotOriginEpochMs: number | undefined;
  setInterval(() => {
    const noFaceMs = noFaceSince === undefined ? 0 : performance.now() - noFaceSince;
    const status: SenderStatus = { stats: { ...sender.stats }, trackedFps: (tracked * 1000) / STATUS_MS, trackMs: tracked ? trackMsTotal / tracked : 0, trackEvery, face, noFaceMs, maxSendGapMs, slotOriginEpochMs };
    tracked = 0;
    maxSendGapMs = 0;
    trackMsTotal = 0;
    post({ type: 'status', status });
  }, STATUS_MS);

  /** Tracks and codes one camera frame (or drops it when the tracker is busy or resting). */
  const handleFrame = async (source: ImageBitmap | VideoFrame, slotMs: number): Promise<void> => {
    const width = 'displayWidth' in source ? source.displayWidth : source.width;
    const height = 'displayHeight' in source ? source.displayHeight : source.height;
    // A face being followed at a slower pace: the sender interpolates the slots left out.
    const offPace = face && Math.round(slotMs / FRAME_SLOT_MS) % trackEvery !== 0;
    if (paused || busy || offPace || (!face && slotMs - lastSearchMs < SEARCH_INTERVAL_MS)) {
      source.close(); // never queue stale frames
      return;
    }
    if (!face) lastSearchMs = slotMs;
    busy = true;
    try {
      const scale = Math.min(1, MAX_TRACK_WIDTH / width);
      const image = pixelsOf(source, Math.round(width * scale), Math.round(height * scale));
      source.close();
      const t0 = performance.now();
      const result = await tracker.track(image, slotMs);
      trackMsTotal += performance.now() - t0;
      tracked++;
      face = result.state === 'face';
      noFaceSince = face ? undefined : (noFaceSince ?? t0);
      const box = sender.pushFrame(slotMs, result.state === 'face' ? result.landmarks : null, image);
      if (init.keepCrops && box) {
        // The frame itself (getImageData gave us our own copy); cropped only when asked.
        recentFrames.set(slotMs, { image, box });
        for (const key of recentFrames.keys()) if (recentFrames.size > FRAMES_KEPT) recentFrames.delete(key);
      }
    } catch (error) {
      post({ type: 'error', message: (error as Error).message });
    } finally {
      busy = false;
    }
  };

  /** The camera's frames as they come; those that arrive while the tracker is busy are dropped. */
  const readCamera = async (frames: ReadableStream<VideoFrame>): Promise<void> => {
    const origin = performance.now();
    slotOriginEpochMs = performance.timeOrigin + origin;
    const reader = frames.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const slotMs = Math.round((performance.now() - origin) / FRAME_SLOT_MS) * FRAME_SLOT_MS;
      if (busy) value.close();
      else void handleFrame(value, slotMs);
    }
  };

  self.onmessage = async (event: MessageEvent<ToSender>) => {
    const message = event.data;
    switch (message.type) {
      case 'camera':
        return void readCamera(message.frames).catch((error: unknown) => post({ type: 'error', message: `camera stream ended: ${(error as Error).message}` }));
      case 'frame':
        await handleFrame(message.bitmap, message.slotMs);
        post({ type: 'frame-done', slotMs: message.slotMs });
        return;
      case 'request':
        return sender.requestReference(message.reason);
      case 'mode': {
        // In the order asked: browserMode waits for WebCodecs' answers.
        const asked = message.mode;
        modeChange = modeChange.then(async () => sender.setMode(await browserMode(asked))).catch((error: unknown) => post({ type: 'error', message: `kiloface could not change its rate mode: ${(error as Error).message}` }));
        return;
      }
      case 'loss':
        return sender.setSimulatedLoss(message.fraction);
      case 'audience':
        audience = message.links;
        return;
      case 'paused':
        // Back from a pause, receivers that joined meanwhile have no reference: send one with the next face.
        if (paused && !message.paused) sender.requestReference('join');
        paused = message.paused;
        face = false;
        noFaceSince = undefined; // a paused tracker looks for nothing
        return;
      case 'pace':
        trackEvery = message.trackEvery;
        return;
      case 'crop': {
        const kept = recentFrames.get(message.slotMs);
        return post({ type: 'crop', id: message.id, pixels: kept ? cropPixels(kept.image, kept.box).data : null });
      }
      case 'start':
        return;
    }
  };
  for (const message of early.splice(0)) self.onmessage?.(new MessageEvent('message', { data: message }));
  post({ type: 'ready' });
}

/** Messages that come while the models load (the camera stream, requests) wait for them. */
const early: ToSender[] = [];
self.onmessage = (event: MessageEvent<ToSender>) => {
  const message = event.data;
  if (message.type !== 'start') {
    if (message.type === 'frame') message.bitmap.close();
    else early.push(message);
    return;
  }
  start(message).catch((error: unknown) => post({ type: 'error', message: `neural sender could not start: ${(error as Error).message}` }));
};
