// The sender's closed-loop check in a worker of its own: how well a receiver will rebuild the
// current frame from the geometry we send (PSNR of the decoder's picture against the camera's
// crop). In the sender's worker it held the tracker for 100-400 ms at a time (a decoder run, and
// a new reference's encoding), and no geometry went out meanwhile; here the tracker goes on.
import { imageTensor, type NeuralDecoder } from '../../codec/decoder/neural-decoder.ts';
import { loadDecoder } from './models.ts';
import { planarToRgba, psnrRgba } from './pictures.ts';
import type { FromSelfCheck, ToSelfCheck } from './protocol.ts';
import { receiveOnnxWasm } from '../runtime/onnx-web.ts';

let port: MessagePort | undefined;
const post = (message: FromSelfCheck): void => port?.postMessage(message);

async function start(): Promise<void> {
  let decoder: NeuralDecoder;
  try {
    decoder = await loadDecoder(1);
  } catch (error) {
    post({ type: 'error', message: `the sender's self-check decoder did not load (${(error as Error).message}); references follow the timer and requests only` });
    return;
  }
  post({ type: 'ready' });
  // One message at a time, in order: a reference must be set before the checks that follow it.
  let work = Promise.resolve();
  port!.onmessage = ({ data: message }: MessageEvent<ToSelfCheck>) => {
    work = work.then(async () => {
      try {
        if (message.type === 'reference') await decoder.setReference(imageTensor(message.picture, 4), message.landmarks);
        else post({ type: 'psnr', id: message.id, db: psnrRgba(planarToRgba((await decoder.decode(message.landmarks)).image), message.crop) });
      } catch (error) {
        if (message.type === 'check') post({ type: 'psnr', id: message.id, db: Number.NaN });
        post({ type: 'error', message: `self-check: ${(error as Error).message}` });
      }
    });
  };
}

receiveOnnxWasm(); // before our message handler

// The page hands over the port the sender's worker talks on.
self.onmessage = ({ data }: MessageEvent<{ port: MessagePort }>) => {
  port = data.port;
  void start();
};
