// A binary adaptive range coder in the style of LZMA's: 11-bit probabilities that adapt by 1/32
// of the error after each bit, 32-bit range, carry propagation through a cached byte. Chosen for
// being small, well understood, exact in JavaScript numbers, and good on the few dozen symbols of
// one packet when its probabilities start from trained priors.

export const PROB_BITS = 11;
export const PROB_ONE = 1 << PROB_BITS;
const ADAPT_SHIFT = 5;
const TOP = 2 ** 24;
const TWO_32 = 2 ** 32;
/** Trailing zero bytes finish() may drop (the decoder reads zeros in their place). */
export const MAX_STRIPPED_BYTES = 4;

/** Probabilities (of a 0 bit, scaled to PROB_ONE) for a set of contexts; updated as bits are coded. */
export class BitModels {
  readonly probs: Uint16Array;

  constructor(countOrPriors: number | ArrayLike<number>) {
    if (typeof countOrPriors === 'number') this.probs = new Uint16Array(countOrPriors).fill(PROB_ONE >> 1);
    else {
      this.probs = Uint16Array.from(countOrPriors, (p) => clampProb(p));
    }
  }
}

/** Keeps a probability where both outcomes stay codable. */
export function clampProb(p: number): number {
  return Math.min(PROB_ONE - 31, Math.max(31, Math.round(p)));
}

/** Where coded bits go: the range encoder, or a counter that learns priors from training data. */
export interface BitSink {
  encodeBit(models: BitModels, context: number, bit: number): void;
  encodeDirect(value: number, bitCount: number): void;
}

export class RangeEncoder implements BitSink {
  private low = 0; // up to 33 bits: kept as a Number, exact below 2^53
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private readonly bytes: number[] = [];

  encodeBit(models: BitModels, context: number, bit: number): void {
    const p = models.probs[context]!;
    const bound = (this.range >>> PROB_BITS) * p;
    if (bit === 0) {
      this.range = bound;
      models.probs[context] = p + ((PROB_ONE - p) >> ADAPT_SHIFT);
    } else {
      this.low += bound;
      this.range -= bound;
      models.probs[context] = p - (p >> ADAPT_SHIFT);
    }
    this.normalize();
  }

  /** Equiprobable bits, no model: for the rare long tails of big values. */
  encodeDirect(value: number, bitCount: number): void {
    for (let i = bitCount - 1; i >= 0; i--) {
      this.range = Math.floor(this.range / 2);
      if ((value >>> i) & 1) this.low += this.range;
      this.normalize();
    }
  }

  /**
   * Ends the stream with as few bytes as possible: picks the value inside the final interval
   * with the most trailing zero bits, and drops up to MAX_STRIPPED_BYTES trailing zero bytes (the
   * decoder reads zeros past the end) and LZMA's always-zero first byte.
   */
  finish(): Uint8Array {
    for (let k = 32; k >= 0; k--) {
      const step = 2 ** k;
      const value = Math.ceil(this.low / step) * step;
      if (value < this.low + this.range) {
        this.low = value;
        break;
      }
    }
    for (let i = 0; i < 5; i++) this.shiftLow();
    // Only the flush's own bytes may go: the decoder reads exactly as many bytes as were written,
    // so stripping at most MAX_STRIPPED_BYTES keeps its overrun a check for truncated input.
    let end = this.bytes.length;
    while (end > 1 && this.bytes.length - end < MAX_STRIPPED_BYTES && this.bytes[end - 1] === 0) end--;
    return Uint8Array.from(this.bytes.slice(1, end));
  }

  private normalize(): void {
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.shiftLow();
    }
  }

  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= TWO_32) {
      const carry = this.low >= TWO_32 ? 1 : 0;
      let temp = this.cache;
      do {
        this.bytes.push((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / TOP) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % TOP) * 256;
  }
}

export class RangeDecoder {
  private code = 0;
  private range = 0xffffffff;
  private position = 0;

  constructor(private readonly bytes: Uint8Array) {
    for (let i = 0; i < 4; i++) this.code = (this.code * 256 + this.nextByte()) >>> 0;
  }

  /** Bytes read beyond the end of the input (zeros). A valid stream needs at most MAX_STRIPPED_BYTES. */
  get overrun(): number {
    return Math.max(0, this.position - this.bytes.length);
  }

  decodeBit(models: BitModels, context: number): number {
    const p = models.probs[context]!;
    const bound = (this.range >>> PROB_BITS) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      models.probs[context] = p + ((PROB_ONE - p) >> ADAPT_SHIFT);
      bit = 0;
    } else {
      this.code -= bound;
      this.range -= bound;
      models.probs[context] = p - (p >> ADAPT_SHIFT);
      bit = 1;
    }
    this.normalize();
    return bit;
  }

  decodeDirect(bitCount: number): number {
    let value = 0;
    for (let i = 0; i < bitCount; i++) {
      this.range = Math.floor(this.range / 2);
      let bit = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        bit = 1;
      }
      value = value * 2 + bit;
      this.normalize();
    }
    return value;
  }

  private normalize(): void {
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.code = (this.code * 256 + this.nextByte()) >>> 0;
    }
  }

  private nextByte(): number {
    const byte = this.position < this.bytes.length ? this.bytes[this.position]! : 0;
    this.position++;
    return byte;
  }
}
