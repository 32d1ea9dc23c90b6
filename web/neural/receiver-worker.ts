// The receiving half of the neural stream for one remote person, off the main thread: packets
// in, rebuilt pictures out, at most one per frame slot and as fast as the decoder manages.
import { imageTensor } from '../../codec/decoder/neural-decoder.ts';
import { CROP_SIZE, FRAME_SLOT_MS } from '../../codec/shipped.ts';
import { NeuralReceiver } from '../../codec/stream/neural-receiver.ts';
import { decodeReference, planarToRgba } from './pictures.ts';
import type { GuideCodecs } from '../../codec/stream/guide-codec.ts';
import { webCodecsGuideCodecs } from './guide-webcodecs.ts';
import { loadDecoder, loadGeometry, loadTracker, watchModelDownloads } from './models.ts';
import type { FromReceiver, ReceiverState, ReceiverStatus, ToReceiver } from './protocol.ts';
import { receiveOnnxWasm } from '../runtime/onnx-web.ts';

receiveOnnxWasm(); // before any message handler of ours

const post = (message: FromReceiver, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(message, transfer);

const STATUS_MS = 1000;
/**
 * Messages that come while the models load (a few seconds: ~25 packets/s in real use). A flood
 * must not grow this either (issue 13): past the bound the oldest packet goes.
 */
const MAX_EARLY_MESSAGES = 512;
const early: ToReceiver[] = [];
/**
 * The stream counts as flowing while the page got a packet this recently (ms): the longest
 * bundle (5 frames x 2 slots, 400 ms) plus concealment's 600 ms. A picture held longer while
 * packets flow is our decoder's doing (this worker reads packets only between pictures).
 */
const STREAM_QUIET_MS = 1000;
/** Download progress goes to the page at most this often (ms), and whenever a file completes. */
const PROGRESS_MS = 250;

let lastArrivalEpochMs = -Infinity;
const epochNow = (): number => performance.timeOrigin + performance.now();
const streamQuiet = (): boolean => epochNow() - lastArrivalEpochMs > STREAM_QUIET_MS;

/**
 * Before each rebuild, queued guide pictures get up to this long to decode (ms). The rebuild
 * network blocks this worker's event loop for 100-700 ms, and a guide picture needs a few turns
 * of it (the chunk to the decoder, its picture back): run between rebuilds one turn at a time,
 * they fell ~3 s behind 10 pictures/s in a call and were dropped. Together they take ~1-2 ms
 * once the call runs; while the worker warms up (its first rebuilds, loading the guided network)
 * 20 ms a turn let a fresh keyframe wait 2.5-4 s behind the pictures before it and the decoder's
 * queue overflow again, so a backlog gets more.
 */
const GUIDE_CATCH_UP_MS = 100;

/** The newest guide decode handed over, or undefined: pictures come back in order, so it settles last. */
let guideDecoding: Promise<unknown> | undefined;

/** WebCodecs' guide codecs, with the decode in flight noted for guideCatchUp. */
const guideCodecs: GuideCodecs = {
  encoder: (layer) => webCodecsGuideCodecs.encoder(layer),
  async decoder(layer) {
    const decoder = await webCodecsGuideCodecs.decoder(layer);
    return {
      decode(chunk) {
        const picture = decoder.decode(chunk);
        const flight = picture.catch(() => undefined).finally(() => {
          if (guideDecoding === flight) guideDecoding = undefined;
        });
        guideDecoding = flight;
        return picture;
      },
      reset: () => decoder.reset(),
      close: () => decoder.close(),
    };
  },
};

/** One event-loop turn (a message to ourselves: unlike setTimeout, never clamped). */
function nextTurn(): Promise<void> {
  const channel = new MessageChannel();
  return new Promise((resolve) => {
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** Lets the queued guide pictures decode, one after another, for at most GUIDE_CATCH_UP_MS. */
async function guideCatchUp(): Promise<void> {
  const end = performance.now() + GUIDE_CATCH_UP_MS;
  while (performance.now() < end) {
    // After a decode the receiver starts the next one in the same microtask run: look again after a turn.
    if (!guideDecoding) await nextTurn();
    const flight = guideDecoding;
    if (!flight) return;
    await Promise.race([flight, new Promise((resolve) => setTimeout(resolve, Math.max(0, end - performance.now())))]);
  }
}

let lastState = '';
/** Tells the page what we are doing, when it changes. */
function setState(state: ReceiverState): void {
  const key = JSON.stringify(state);
  if (key === lastState) return;
  lastState = key;
  post({ type: 'state', state });
}

async function start(threads: number): Promise<void> {
  let lastProgressMs = -Infinity;
  let files = '';
  watchModelDownloads((progress) => {
    const now = performance.now();
    if (progress.files === progress.filesTotal) return setState({ kind: 'compile' });
    // Bytes at most every PROGRESS_MS; a file asked for or finished at once.
    if (`${progress.files}/${progress.filesTotal}` === files && now - lastProgressMs < PROGRESS_MS) return;
    files = `${progress.files}/${progress.filesTotal}`;
    lastProgressMs = now;
    setState({ kind: 'download', ...progress });
  });
  const [{ geometry, coding }, tracker, decoder] = await Promise.all([loadGeometry(), loadTracker(false, 1), loadDecoder(threads, true)]);
  // Guide pictures are decoded only for a decoder that takes them (v2), and where WebCodecs is.
  const guides = decoder.takesGuide && typeof VideoDecoder !== 'undefined';
  const receiver = new NeuralReceiver(
    {
      coding,
      referenceShape: (landmarks) => geometry.referenceShape(landmarks),
      ...(guides ? { guideCodecs, landmarks: (values: Float32Array, shape: Float64Array) => geometry.decode(values, shape) } : {}),
    },
    {
      async loadReference(_id, format, picture) {
        const decoded = await decodeReference(tracker, picture, format);
        if (!decoded) throw new Error('no face found on the reference picture');
        await decoder.setReference(imageTensor(decoded.picture.data, 4), decoded.landmarks);
        return decoded.landmarks;
      },
      requestReference: (reason) => post({ type: 'request', reason }),
      // Loaded while the first guide keyframe is on its way, not after it.
      guideLayerSeen: () => decoder.prepareGuided(),
    },
  );
  const onMessage = (message: ToReceiver): void => {
    if (message.type === 'packet') {
      lastArrivalEpochMs = Math.max(lastArrivalEpochMs, message.arrivedEpochMs);
      // The page's arrival time on this worker's clock: packets queued while the models loaded are old.
      receiver.onPacket(message.channel, message.bytes, performance.now(), message.arrivedEpochMs - performance.timeOrigin);
    } else if (message.type === 'stop') close();
  };
  self.onmessage = (event: MessageEvent<ToReceiver>) => onMessage(event.data);
  for (const message of early.splice(0)) onMessage(message);

  let decoded = 0;
  let guided = 0;
  let decodeMsTotal = 0;
  let due = 0;
  setInterval(() => {
    const status: ReceiverStatus = {
      stats: { ...receiver.stats, packetErrors: { ...receiver.stats.packetErrors }, pictureErrors: { ...receiver.stats.pictureErrors } },
      decodedFps: (decoded * 1000) / STATUS_MS,
      decodeMs: decoded ? decodeMsTotal / decoded : 0,
      backend: decoder.backend,
      pictures: { drawn: decoded, due: Math.max(decoded, Math.round(due)), guided },
    };
    decoded = 0;
    guided = 0;
    decodeMsTotal = 0;
    due = 0;
    post({ type: 'status', status });
  }, STATUS_MS);
  post({ type: 'ready' });

  // Draw loop: the frame for "now" whenever it differs from the last one drawn.
  let lastValues: Float32Array | undefined;
  let lastGuide: Uint8Array | undefined;
  let lastShown = '';
  let previousMs = performance.now();
  for (;;) {
    if (guides) await guideCatchUp();
    const started = performance.now();
    // Slots since the last turn: each was a picture the stream had for us while it flowed.
    const slots = (started - previousMs) / FRAME_SLOT_MS;
    previousMs = started;
    receiver.tick(started);
    const frame = receiver.frameAt(started);
    if (frame.state === 'face') {
      // Held past concealment: the stream stopped, unless packets still come (then we are behind).
      const interrupted = frame.stale && streamQuiet();
      const changed = !lastValues || lastShown !== `face${frame.referenceId}` || frame.guide?.picture !== lastGuide || frame.values.some((v, i) => v !== lastValues![i]);
      // A picture that did not change was not missed; one held while packets flow was.
      if (!interrupted && (changed || frame.stale)) due += slots;
      setState({ kind: interrupted ? 'stalled' : 'face' });
      if (changed) {
        try {
          const t0 = performance.now();
          const out = await decoder.decode(geometry.decode(frame.values, frame.shape), frame.guide);
          decodeMsTotal += performance.now() - t0;
          decoded++;
          if (frame.guide) guided++;
          const bitmap = await createImageBitmap(new ImageData(planarToRgba(out.image), CROP_SIZE, CROP_SIZE));
          post({ type: 'frame', bitmap, senderTimeMs: frame.senderTimeMs, concealed: frame.concealed, stale: interrupted }, [bitmap]);
          lastValues = frame.values;
          lastGuide = frame.guide?.picture;
          lastShown = `face${frame.referenceId}`;
        } catch (error) {
          post({ type: 'error', message: `decode failed: ${(error as Error).message}` });
        }
      }
    } else {
      setState(frame.state === 'no-face' ? { kind: 'no-face' } : { kind: 'waiting', reason: frame.reason });
      lastShown = frame.state;
      lastValues = undefined;
    }
    // One picture per slot at most; a slow decoder simply makes fewer.
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, FRAME_SLOT_MS - (performance.now() - started))));
  }
}

self.onmessage = (event: MessageEvent<ToReceiver>) => {
  const message = event.data;
  if (message.type === 'start') start(message.threads).catch((error: unknown) => post({ type: 'error', message: `neural receiver could not start: ${(error as Error).message}` }));
  else {
    early.push(message);
    if (early.length > MAX_EARLY_MESSAGES) early.splice(early.findIndex((m) => m.type === 'packet'), 1);
  }
};
