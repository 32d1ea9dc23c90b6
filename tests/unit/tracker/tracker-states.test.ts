// The tracker's state machine with scripted models (test doubles of ModelRunner), for the cases a
// real face cannot be made to produce on demand: non-finite outputs, a tracked ROI leaving the
// frame, the presence threshold, timestamps.
import { describe, expect, it } from 'vitest';

import type { ModelRunner, Tensors } from '../../../codec/model-runner.ts';
import { FaceTracker } from '../../../codec/tracker/face-tracker.ts';
import type { ImageLike } from '../../../codec/tracker/image.ts';
import { blankFrame } from '../../helpers/tracker/synthetic-face.ts';

/** A runner that answers every run() with whatever `answer` returns, counting calls. */
class ScriptedRunner implements ModelRunner {
  readonly inputNames = ['input'];
  readonly backend = 'scripted';
  calls = 0;
  closed = false;
  constructor(
    readonly outputNames: readonly string[],
    public answer: () => Tensors,
  ) {}
  async run(feeds: Tensors): Promise<Tensors> {
    expect(Object.keys(feeds)).toEqual(['input']);
    this.calls++;
    return this.answer();
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Detector output with one face centred in the letterboxed frame: box half its side, eyes level. */
function oneFace(): Tensors {
  const regressors = new Float32Array(896 * 16);
  const logits = new Float32Array(896).fill(-20);
  const a = 0.03125; // anchor 0 centre
  const t = (v: number) => (v - a) * 128;
  regressors.set([t(0.5), t(0.5), 64, 64, t(0.4), t(0.45), t(0.6), t(0.45), t(0.5), t(0.55), t(0.5), t(0.65), t(0.25), t(0.5), t(0.75), t(0.5)], 0);
  logits[0] = 5;
  return { regressors: { data: regressors, dims: [1, 896, 16] }, classificators: { data: logits, dims: [1, 896, 1] } };
}

/** Landmark output: 468 points on a 96x96 square of the crop (offset by `shift` crop pixels), eyes level. */
function mesh(flag: number, shift = 0, value?: number): Tensors {
  const lm = new Float32Array(468 * 3);
  for (let i = 0; i < 468; i++) lm.set([48 + shift + (i % 22) * (96 / 21), 48 + Math.floor(i / 22) * (96 / 21), 0], 3 * i);
  lm.set([60 + shift, 80, 0], 3 * 33);
  lm.set([130 + shift, 80, 0], 3 * 263);
  if (value !== undefined) lm[100] = value;
  return { landmarks: { data: lm, dims: [1, 468, 3] }, face_flag: { data: Float32Array.of(flag), dims: [1, 1] } };
}

function tracker(landmarks: () => Tensors, options = {}) {
  const det = new ScriptedRunner(['regressors', 'classificators'], oneFace);
  const lm = new ScriptedRunner(['landmarks', 'face_flag'], landmarks);
  return { det, lm, tracker: new FaceTracker(det, lm, { smoothing: false, ...options }) };
}

const frame: ImageLike = blankFrame(100, 100);

describe('FaceTracker state machine (scripted models)', () => {
  it('detect -> track: the detector runs only until a face is found', async () => {
    const { det, lm, tracker: t } = tracker(() => mesh(5));
    for (let i = 0; i < 4; i++) expect((await t.track(frame)).state).toBe('face');
    expect(det.calls).toBe(1);
    expect(lm.calls).toBe(4);
    expect(t.stats).toMatchObject({ frames: 4, framesWithFace: 4, detectorRuns: 1, landmarkRuns: 4, facesLost: 0 });
  });

  it('non-finite landmarks or flags are never reported: no-face "invalid-output", then detection again', async () => {
    let out = mesh(5, 0, Number.NaN);
    const { det, tracker: t } = tracker(() => out);
    const r = await t.track(frame);
    expect(r).toMatchObject({ state: 'no-face', reason: 'invalid-output' });
    expect(t.phase).toBe('detecting');
    out = mesh(Number.NaN);
    expect(await t.track(frame)).toMatchObject({ state: 'no-face', reason: 'invalid-output', presence: null });
    out = mesh(5);
    expect((await t.track(frame)).state).toBe('face');
    expect(det.calls).toBe(3);
  });

  it('presence at exactly the threshold keeps the face; below it loses it (one no-face frame, then the detector)', async () => {
    let flag = 0; // sigmoid(0) = 0.5
    const { det, tracker: t } = tracker(() => mesh(flag));
    expect((await t.track(frame)).state).toBe('face');
    flag = -0.01;
    expect(await t.track(frame)).toMatchObject({ state: 'no-face', reason: 'low-presence', detected: false });
    expect(t.stats.facesLost).toBe(1);
    flag = 3;
    const back = await t.track(frame);
    expect(back).toMatchObject({ state: 'face', detected: true });
    expect(det.calls).toBe(2);
  });

  it('a tracked ROI whose centre leaves the frame is dropped and the detector runs on that frame', async () => {
    let shift = 0;
    const { det, tracker: t } = tracker(() => mesh(5, shift));
    expect((await t.track(frame)).state).toBe('face');
    shift = 200; // landmarks far right of the crop: next ROI centre beyond x = 100
    const r1 = await t.track(frame);
    expect(r1.state).toBe('face');
    if (r1.state === 'face') expect(r1.roi.cx).toBeLessThan(100); // this frame's ROI was still inside
    shift = 0;
    const r2 = await t.track(frame);
    expect(r2).toMatchObject({ state: 'face', detected: true });
    expect(t.stats.roiLeftFrame).toBe(1);
    expect(det.calls).toBe(2);
  });

  it("timestamps: the caller's, else frame index / fps; smoothing restarts after a lost face", async () => {
    let flag = 5;
    const { tracker: t } = tracker(() => mesh(flag), { smoothing: { minCutoff: 1, beta: 0, derivativeCutoff: 1 }, fps: 30 });
    expect((await t.track(frame)).timeMs).toBe(0);
    expect((await t.track(frame)).timeMs).toBeCloseTo(1000 / 30, 9);
    expect((await t.track(frame, 5000)).timeMs).toBe(5000);
    flag = -5;
    await t.track(frame);
    flag = 5;
    const r = await t.track(frame);
    if (r.state !== 'face') throw new Error('expected a face');
    expect(Array.from(r.landmarks)).toEqual(Array.from(r.rawLandmarks)); // fresh filter: first sample passes
  });

  it('close() closes runners only when the tracker loaded them', async () => {
    const { det, lm, tracker: t } = tracker(() => mesh(5));
    await t.close();
    expect(det.closed || lm.closed).toBe(false);
    const owned = new FaceTracker(det, lm, {}, true);
    await owned.close();
    expect(det.closed && lm.closed).toBe(true);
  });

  it('wrong model outputs fail loudly', async () => {
    const { tracker: t, det } = tracker(() => mesh(5));
    det.answer = () => ({ regressors: { data: new Float32Array(10), dims: [10] } });
    await expect(t.track(frame)).rejects.toThrow(/classificators|regressors/);
  });
});
