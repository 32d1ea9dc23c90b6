// The receiving half of the neural stream for one remote person, off the main thread: packets
// in, rebuilt pictures out, at most one per frame slot and as fast as the decoder manages.
import { imageTensor } from '../../codec/decoder/neural-decoder.ts';
import { CROP_SIZE, FRAME_SLOT_MS } from '../../codec/shipped.ts';
import { NeuralReceiver } from '../../codec/stream/neural-receiver.ts';
import { decodeReference, planarToRgba } from './pictures.ts';
import { loadDecoder, loadGeometry, loadTracker } from './models.ts';
import type { FromReceiver, ReceiverStatus, ToReceiver } from './protocol.ts';

const post = (message: FromReceiver, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(message, transfer);

const STATUS_MS = 1000;
/**
 * Messages that come while the models load (a few seconds: ~25 packets/s in real use). A flood
 * must not grow this either (issue 13): past the bound the oldest packet goes.
 */
const MAX_EARLY_MESSAGES = 512;
const early: ToReceiver[] = [];

async function start(threads: number): Promise<void> {
  const [{ geometry, coding }, tracker, decoder] = await Promise.all([loadGeometry(), loadTracker(false, 1), loadDecoder(threads, true)]);
  const receiver = new NeuralReceiver(
    { coding, referenceShape: (landmarks) => geometry.referenceShape(landmarks) },
    {
      async loadReference(_id, format, picture) {
        const decoded = await decodeReference(tracker, picture, format);
        if (!decoded) throw new Error('no face found on the reference picture');
        await decoder.setReference(imageTensor(decoded.picture.data, 4), decoded.landmarks);
        return decoded.landmarks;
      },
      requestReference: (reason) => post({ type: 'request', reason }),
    },
  );
  const onMessage = (message: ToReceiver): void => {
    if (message.type === 'packet') receiver.onPacket(message.channel, message.bytes, performance.now());
    else if (message.type === 'stop') close();
  };
  self.onmessage = (event: MessageEvent<ToReceiver>) => onMessage(event.data);
  for (const message of early.splice(0)) onMessage(message);

  let decoded = 0;
  let decodeMsTotal = 0;
  setInterval(() => {
    const status: ReceiverStatus = {
      stats: { ...receiver.stats, packetErrors: { ...receiver.stats.packetErrors }, pictureErrors: { ...receiver.stats.pictureErrors } },
      decodedFps: (decoded * 1000) / STATUS_MS,
      decodeMs: decoded ? decodeMsTotal / decoded : 0,
      backend: decoder.backend,
    };
    decoded = 0;
    decodeMsTotal = 0;
    post({ type: 'status', status });
  }, STATUS_MS);
  post({ type: 'ready' });

  // Draw loop: the frame for "now" whenever it differs from the last one drawn.
  let lastValues: Float32Array | undefined;
  let lastState = '';
  let stalled = false;
  for (;;) {
    const started = performance.now();
    receiver.tick(started);
    const frame = receiver.frameAt(started);
    if (frame.state === 'face') {
      const changed = !lastValues || lastState !== `face${frame.referenceId}` || frame.values.some((v, i) => v !== lastValues![i]);
      if (!changed && frame.stale && !stalled) {
        post({ type: 'stalled' }); // the picture stays; the page says the stream is interrupted
        stalled = true;
      }
      if (changed) {
        stalled = false;
        try {
          const t0 = performance.now();
          const out = await decoder.decode(geometry.decode(frame.values, frame.shape));
          decodeMsTotal += performance.now() - t0;
          decoded++;
          const bitmap = await createImageBitmap(new ImageData(planarToRgba(out.image), CROP_SIZE, CROP_SIZE));
          post({ type: 'frame', bitmap, senderTimeMs: frame.senderTimeMs, concealed: frame.concealed, stale: frame.stale }, [bitmap]);
          lastValues = frame.values;
          lastState = `face${frame.referenceId}`;
        } catch (error) {
          post({ type: 'error', message: `decode failed: ${(error as Error).message}` });
        }
      }
    } else if (frame.state !== lastState) {
      if (frame.state === 'no-face') post({ type: 'no-face' });
      lastState = frame.state;
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
