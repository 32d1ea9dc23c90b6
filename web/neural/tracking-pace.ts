// How often the sender's tracker runs: every camera frame, or every other one while this device is
// short of CPU for the faces it rebuilds. Pure (statuses in, pace out), so it is unit-tested
// without a browser; neural-stream.ts feeds it once a second.
//
// Why: one device tracks its own face and rebuilds everyone else's, and the tracker wins that
// contest. Chromium runs a worker that reads camera frames at display priority (nice -8 on Linux),
// the decoders at normal priority. With both ends of a two-person call on one 2-core machine the
// trackers took 27-38 % of a core each at 25 frames a second and each receiver rebuilt 7-10 faces a
// second; tracking every other frame (the slots between are interpolated by the sender, as when the
// tracker is busy) gave 14-15 (`npm run measure:wire`, README). A device with room to spare keeps
// tracking every frame.

/** What one receiver reported for the last second (receiver-worker.ts's status). */
export interface ReceiverLoad {
  decodedFps: number;
  /** Mean wall-clock time per rebuilt picture, ms: CPU time plus the time the decoder waited for a core. */
  decodeMs: number;
}

export type TrackEvery = 1 | 2;

export const PACE = {
  /** A receiver rebuilding fewer faces a second than this while it decodes without pause is starved. */
  wantedFps: 15,
  /** "Without pause": the share of the second its decoder was busy. */
  busyShare: 0.8,
  /** Every receiver's decoder busy less than this share of the second: there is room to track every frame again. */
  roomShare: 0.5,
  /** Seconds in a row of a starved receiver before the tracker slows down, and of room before it speeds up again. */
  slowAfterS: 3,
  fullAfterS: 10,
} as const;

const busy = (r: ReceiverLoad): number => (r.decodedFps * r.decodeMs) / 1000;

export class TrackingPace {
  private every: TrackEvery = 1;
  private streak = 0;

  get trackEvery(): TrackEvery {
    return this.every;
  }

  /** One second's statuses of this page's receivers (none: nobody to rebuild); returns the pace. */
  next(receivers: readonly ReceiverLoad[]): TrackEvery {
    const starved = receivers.some((r) => r.decodedFps < PACE.wantedFps && busy(r) >= PACE.busyShare);
    const room = receivers.every((r) => busy(r) < PACE.roomShare);
    const changing = this.every === 1 ? starved : room;
    this.streak = changing ? this.streak + 1 : 0;
    if (this.streak >= (this.every === 1 ? PACE.slowAfterS : PACE.fullAfterS)) {
      this.every = this.every === 1 ? 2 : 1;
      this.streak = 0;
    }
    return this.every;
  }
}
