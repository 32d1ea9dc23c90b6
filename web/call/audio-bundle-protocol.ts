// Messages between the page (AudioBundleCarrier) and the encoded-transform worker that puts kiloface
// frame bundles into outgoing audio frames and takes them out of incoming ones.

/** What the page gives each RTCRtpScriptTransform: which connection it serves and in which direction. */
export interface AudioTransformOptions {
  key: string;
  side: 'send' | 'receive';
}

export type ToAudioWorker =
  /** A frames packet to ride on the next outgoing audio frame of connection `key`. */
  | { type: 'bundle'; key: string; bytes: Uint8Array }
  /** The connection is gone: drop what waits for it. */
  | { type: 'drop'; key: string };

export type FromAudioWorker =
  /** Bundles taken out of an incoming audio frame. */
  | { type: 'received'; key: string; bundles: Uint8Array[] }
  /** Bundles that went out inside an audio frame, and the bytes they added to it (their framing included). */
  | { type: 'carried'; key: string; count: number; bytes: number }
  /** A bundle that found no audio frame in time (silence: DTX sends none): send it on the datachannel. */
  | { type: 'fallback'; key: string; bytes: Uint8Array };
