import { DEFAULT_TARGET_KBPS, RATE_MODES } from '../../codec/stream/rate-modes.ts';

/** The neural stream's settings, from the room link: `?neural=off&kbps=16` (and two for testing). */
export interface NeuralSettings {
  /** Send our face as a neural stream (receiving is always on). */
  send: boolean;
  /** Target wire kbit/s of our neural stream, references included. */
  targetKbps: number;
  /** `neuralLoss=0.2`: drop this fraction of our frames packets (to see concealment work). */
  simulatedLoss: number;
  /** `neuralDebug=1`: keep recent sent crops so tools can compare them with what receivers show. */
  keepCrops: boolean;
}

export const NEURAL_TARGETS_KBPS: readonly number[] = RATE_MODES.map((m) => m.targetKbps);

export function parseNeuralSettings(params: URLSearchParams): NeuralSettings {
  const kbps = Number(params.get('kbps'));
  const loss = Number(params.get('neuralLoss'));
  return {
    send: params.get('neural') !== 'off',
    targetKbps: Number.isFinite(kbps) && kbps >= 1 && kbps <= 1000 ? kbps : DEFAULT_TARGET_KBPS,
    simulatedLoss: Number.isFinite(loss) && loss > 0 ? Math.min(1, loss) : 0,
    keepCrops: params.get('neuralDebug') === '1',
  };
}
