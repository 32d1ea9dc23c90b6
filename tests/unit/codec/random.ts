/** Deterministic pseudo-random numbers for reproducible tests (the fuzz runner's generator). */
export { mulberry32 as rng } from '../../../scripts/fuzz/prng.ts';
