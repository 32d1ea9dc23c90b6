// The One Euro filter (Casiez, Roussel, Vogel, CHI 2012): a first-order low-pass filter whose
// cutoff rises with the signal's speed, so that slow drift and sensor noise are smoothed hard
// while fast motion passes with little lag. Written as the authors' reference implementation
// (and MediaPipe's OneEuroFilter) does: the derivative is taken on raw values and low-passed at
// `derivativeCutoff`; cutoff = minCutoff + beta * |smoothed derivative|.
//
// `valueScale` multiplies the derivative only (as MediaPipe's LandmarksSmoothingCalculator
// does with 1 / object size), so one set of parameters works at any face size: with
// valueScale = 1 / faceSize, beta is per face-size-per-second of speed.

export interface OneEuroParams {
  /** Cutoff frequency (Hz) when the signal is still: lower = smoother, more lag on slow motion. */
  minCutoff: number;
  /** How fast the cutoff rises with speed (per unit of scaled speed): higher = less lag when moving. */
  beta: number;
  /** Cutoff frequency (Hz) of the speed estimate. */
  derivativeCutoff: number;
}

function alpha(cutoff: number, dt: number): number {
  const tau = 1 / (2 * Math.PI * cutoff);
  return 1 / (1 + tau / dt);
}

function checkParams(p: OneEuroParams): void {
  if (!(p.minCutoff > 0) || !(p.beta >= 0) || !(p.derivativeCutoff > 0)) {
    throw new RangeError(`One Euro parameters need minCutoff > 0, beta >= 0, derivativeCutoff > 0 (got ${JSON.stringify(p)})`);
  }
}

/** One scalar signal. */
export class OneEuroFilter {
  private lastTime = NaN;
  private lastRaw = 0;
  private lastOut = 0;
  private lastDx = 0;

  constructor(readonly params: OneEuroParams) {
    checkParams(params);
  }

  /**
   * Filters one sample taken at `timeSeconds`. The first sample passes unchanged; a sample whose
   * time is not after the previous one returns the previous output (nothing to learn from it).
   */
  filter(value: number, timeSeconds: number, valueScale = 1): number {
    if (Number.isNaN(this.lastTime)) {
      this.lastTime = timeSeconds;
      this.lastRaw = this.lastOut = value;
      this.lastDx = 0;
      return value;
    }
    const dt = timeSeconds - this.lastTime;
    if (!(dt > 0)) return this.lastOut;
    const { minCutoff, beta, derivativeCutoff } = this.params;
    const dx = ((value - this.lastRaw) * valueScale) / dt;
    const edx = this.lastDx + alpha(derivativeCutoff, dt) * (dx - this.lastDx);
    const cutoff = minCutoff + beta * Math.abs(edx);
    const out = this.lastOut + alpha(cutoff, dt) * (value - this.lastOut);
    this.lastTime = timeSeconds;
    this.lastRaw = value;
    this.lastDx = edx;
    this.lastOut = out;
    return out;
  }

  reset(): void {
    this.lastTime = NaN;
  }
}

/** Many independent signals sampled together (e.g. 468 x 3 landmark coordinates): one filter each. */
export class OneEuroVectorFilter {
  private lastTime = NaN;
  private readonly lastRaw: Float64Array;
  private readonly lastOut: Float64Array;
  private readonly lastDx: Float64Array;

  constructor(
    readonly size: number,
    readonly params: OneEuroParams,
  ) {
    checkParams(params);
    this.lastRaw = new Float64Array(size);
    this.lastOut = new Float64Array(size);
    this.lastDx = new Float64Array(size);
  }

  /** Filters one sample of every signal; writes and returns `out` (a new array if omitted). */
  filter(values: ArrayLike<number>, timeSeconds: number, valueScale = 1, out: Float32Array = new Float32Array(this.size)): Float32Array {
    if (values.length !== this.size || out.length !== this.size) throw new RangeError(`expected ${this.size} values`);
    const n = this.size;
    if (Number.isNaN(this.lastTime)) {
      this.lastTime = timeSeconds;
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        this.lastRaw[i] = this.lastOut[i] = v;
        this.lastDx[i] = 0;
        out[i] = v;
      }
      return out;
    }
    const dt = timeSeconds - this.lastTime;
    if (!(dt > 0)) {
      for (let i = 0; i < n; i++) out[i] = this.lastOut[i]!;
      return out;
    }
    const { minCutoff, beta, derivativeCutoff } = this.params;
    const aD = alpha(derivativeCutoff, dt);
    const rate = valueScale / dt;
    const tauFactor = 1 / (2 * Math.PI * dt); // alpha(c) = 1 / (1 + tauFactor / c)
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      const dx = (v - this.lastRaw[i]!) * rate;
      const edx = this.lastDx[i]! + aD * (dx - this.lastDx[i]!);
      const cutoff = minCutoff + beta * Math.abs(edx);
      const a = 1 / (1 + tauFactor / cutoff);
      const o = this.lastOut[i]! + a * (v - this.lastOut[i]!);
      this.lastRaw[i] = v;
      this.lastDx[i] = edx;
      this.lastOut[i] = o;
      out[i] = o;
    }
    this.lastTime = timeSeconds;
    return out;
  }

  reset(): void {
    this.lastTime = NaN;
  }
}
