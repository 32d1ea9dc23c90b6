// The `auto` video mode's decision: standard video when the link carries it well, kiloface when it
// does not, with hysteresis so that it does not flap. Pure (samples in, decisions out), so it is
// unit-tested without a browser; video-mode-controller.ts feeds it getStats() once a second.
//
// Why trials, and why they ramp: while only kiloface and audio go out (~20 kbit/s), WebRTC's
// bandwidth estimate is application-limited (or still its ~300 kbit/s starting guess) and cannot
// tell whether the link carries video. The only proof is sending some. A trial keeps kiloface
// going and adds standard video capped at 16 kbit/s, doubling every 2 s while no loss is reported,
// and hands over to standard once the minimum standard video rate got through clean. On a thin
// link the first steps already show loss, and the trial ends within two or three seconds (sending the
// full cap at once flooded a 32 kbit/s relay: 46 % of audio concealed). Still, a failed trial
// costs the voice about a second (measured through that relay: 3-5 % of a 30 s window concealed),
// so they are rare: a call starts on kiloface and tries after 5 s of clean link; after a drop the
// next waits a minute of clean link, doubling after each failure up to 5 min.
//
// On standard the ramp goes on: the video starts at the rate the trial proved and rises 10 kbit/s
// every 5 s of loss-free reports up to the user's cap, and a lossy report cuts it by the loss. The
// bandwidth estimate alone cannot set it: on a policed link (no queue, so no delay signal) WebRTC's
// estimate overshot to 169-275 kbit/s at 128 kbit/s, the user's 100 kbit/s of video plus audio did
// not fit, 33-35 % was lost and auto fell back to kiloface within 10 s (2 of 3 runs, 2026-12-07).

export interface LinkSample {
  atMs: number;
  /** The send-side bandwidth estimate (availableOutgoingBitrate of the selected candidate pair), kbit/s. */
  availableKbps?: number;
  /** Fraction of our packets the far end reports lost (fresh remote-inbound-rtp reports), 0..1. */
  loss?: number;
  rttMs?: number;
}

export type AutoChoice = 'standard' | 'kiloface' | 'trial';

export interface AutoPolicyOptions {
  /** The sender's video cap (kbit/s): standard video at full rate. */
  videoCapKbps: number;
  /** What standard video needs on the wire at least: its minimum rate plus audio and headers, kbit/s. */
  standardNeedsKbps: number;
  /** Drop to kiloface when the link stays poor this long. */
  downHoldMs: number;
  /** On standard, loss above this (or RTT above maxRttMs) makes a sample poor. */
  maxLoss: number;
  maxRttMs: number;
  /** A trial's first video cap, how long each step lasts, and the loss that ends it. */
  trialStartKbps: number;
  trialStepMs: number;
  trialMaxLoss: number;
  /** A trial that got this much video through clean hands over to standard. */
  trialPassKbps: number;
  /** Clean link before the call's first trial. */
  firstTrialAfterMs: number;
  /** First wait (of clean link) before trying standard again; doubles on each failure. */
  trialAfterMs: number;
  maxTrialAfterMs: number;
  /** Standard that holds this long was no failed trial: the back-off resets. */
  stableMs: number;
}

/** Audio (60 ms Opus, ~15 kbit/s on the wire), RTCP and a margin, kbit/s. */
export const AUDIO_AND_HEADERS_KBPS = 30;
/** A trial with no loss report from the far end this long has failed (RTCP comes about every second; slower from a loaded SFU). */
const NO_REPORTS_MS = 5000;
/** The share of the bandwidth estimate standard video and audio may fill in auto. */
const HEADROOM = 0.8;
/** Below this, standard video is a slideshow: kiloface looks better. */
export const MIN_STANDARD_VIDEO_KBPS = 60;
/** Standard's video cap moves in steps this size (so the encoder is not retuned every second); the loss-driven cap rises one after each LOSS_CAP_RAISE_MS of loss-free reports. */
const CAP_STEP_KBPS = 10;
const LOSS_CAP_RAISE_MS = 5000;
/** A report at most this lossy counts as loss-free for raising the cap (RTCP's loss fraction is coarse). */
const LOSS_FREE = 0.01;

export function defaultPolicyOptions(videoCapKbps: number): AutoPolicyOptions {
  const minimum = Math.min(videoCapKbps, MIN_STANDARD_VIDEO_KBPS);
  return {
    videoCapKbps,
    standardNeedsKbps: minimum + AUDIO_AND_HEADERS_KBPS,
    downHoldMs: 4000,
    maxLoss: 0.15,
    maxRttMs: 1000,
    trialStartKbps: Math.min(16, minimum),
    trialStepMs: 2000,
    trialMaxLoss: 0.05,
    trialPassKbps: minimum,
    firstTrialAfterMs: 5000,
    trialAfterMs: 60_000,
    maxTrialAfterMs: 300_000,
    stableMs: 60_000,
  };
}

export interface AutoDecision {
  choice: AutoChoice;
  reason: string;
  atMs: number;
  /** During a trial: the standard video's cap now, kbit/s. */
  trialVideoKbps?: number;
}

export class AutoVideoPolicy {
  private current: AutoDecision;
  private poorSince: number | undefined;
  private cleanSince: number | undefined;
  private stepSince = 0;
  /** When the last loss report came (a sample with `loss`). */
  private lastReportMs: number | undefined;
  private reportsInTrial = 0;
  /** Whether the call's first trial has begun. */
  private tried = false;
  private trialAfterMs: number;
  /** The current trial (or the standard spell it led to) is no first try: failing doubles the wait. */
  private retry = false;
  private lastSample: LinkSample | undefined;
  /** On standard, the video cap that the far end's loss reports allow (undefined: the user's), and since when it holds. */
  private lossCapKbps: number | undefined;
  private lossCapSince = 0;

  /**
   * Starts on kiloface (what any link carries) and tries standard once the call has run
   * `firstTrialAfterMs` clean: its first seconds carry bursts that are not the link (the DTLS
   * handshake, both references, the first keyframes), and a trial among them failed at 128 kbit/s.
   */
  constructor(
    private options: AutoPolicyOptions,
    startMs = 0,
  ) {
    this.trialAfterMs = options.firstTrialAfterMs;
    this.current = { choice: 'kiloface', reason: 'starting: measuring the link', atMs: startMs };
  }

  get decision(): AutoDecision {
    return this.current;
  }

  /** The video cap changed: standard needs a different rate. */
  setOptions(options: AutoPolicyOptions): void {
    this.options = options;
  }

  /** One measurement; returns the new decision when it changes (a switch, or a trial's next step), undefined otherwise. */
  update(sample: LinkSample): AutoDecision | undefined {
    const o = this.options;
    const t = sample.atMs;
    // The first wait counts from the first measurement (the call may connect long after the page starts).
    if (this.lastSample === undefined) this.current = { ...this.current, atMs: t };
    this.lastSample = sample;
    const loss = sample.loss ?? 0;
    const rtt = sample.rttMs ?? 0;
    const short = sample.availableKbps !== undefined && sample.availableKbps < o.standardNeedsKbps;
    const poor = loss > o.maxLoss || rtt > o.maxRttMs || short;
    // RTT counts only when extreme: on a busy machine loopback showed 600 ms (late consent checks), not a full link.
    const clean = loss <= o.trialMaxLoss && rtt <= o.maxRttMs;
    if (sample.loss !== undefined) this.lastReportMs = t;
    this.poorSince = poor ? (this.poorSince ?? t) : undefined;
    this.cleanSince = clean ? (this.cleanSince ?? t) : undefined;

    switch (this.current.choice) {
      case 'trial': {
        if (sample.loss !== undefined && this.reportsInTrial++ === 0 && loss > o.trialMaxLoss && rtt <= o.maxRttMs) {
          return undefined; // the trial's first report may be lossy: the burst of the video's first keyframe (seen at 128 kbit/s)
        }
        if (!clean) return this.fail(`trying standard at ${this.current.trialVideoKbps} kbit/s: ${this.describe(sample)}`, t);
        // Silence is no proof: on a flooded link the receiver's reports are what gets lost.
        const reported = this.lastReportMs !== undefined && this.lastReportMs > this.stepSince;
        if (!reported && t - Math.max(this.stepSince, this.lastReportMs ?? -Infinity) >= NO_REPORTS_MS) {
          return this.fail(`trying standard at ${this.current.trialVideoKbps} kbit/s: no loss reports for ${seconds(NO_REPORTS_MS)}`, t);
        }
        if (t - this.stepSince < o.trialStepMs || !reported) return undefined;
        const video = this.current.trialVideoKbps ?? o.trialStartKbps;
        if (video >= o.trialPassKbps) {
          const decision = this.switchTo({ choice: 'standard', reason: `the link carried ${video} kbit/s of video without loss`, atMs: t });
          this.setLossCap(video, t);
          return decision;
        }
        return this.trialStep(Math.min(o.trialPassKbps, video * 2), t);
      }
      case 'standard':
        if (t - this.current.atMs >= o.stableMs) {
          this.trialAfterMs = o.trialAfterMs;
          this.retry = false;
        }
        if (this.poorSince !== undefined && t - this.poorSince >= o.downHoldMs) return this.fail(`${this.describe(sample)} for ${seconds(o.downHoldMs)}`, t);
        if (sample.loss !== undefined) this.followLoss(loss, t);
        return undefined;
      case 'kiloface':
        if (this.cleanSince !== undefined && t - this.cleanSince >= this.trialAfterMs && t - this.current.atMs >= this.trialAfterMs) {
          const first = !this.tried;
          this.tried = true;
          this.retry = !first;
          if (first) this.trialAfterMs = o.trialAfterMs;
          return this.switchTo(this.trial(first ? 'the call settled' : `no loss for ${seconds(this.trialAfterMs)}`, t));
        }
        return undefined;
    }
  }

  /**
   * On standard, the video's cap: the user's, or less where the estimate says the link is thin or
   * the far end's loss reports do (followLoss). WebRTC's estimator probes above a policed link's
   * rate and the overshoot is dropped (voice with it: ~10 % of audio concealed at 128 kbit/s with a
   * 100 kbit/s cap); leaving a fifth of the estimate free keeps it under where the estimate is right.
   */
  standardVideoCapKbps(): number | undefined {
    const o = this.options;
    if (this.current.choice !== 'standard') return undefined;
    const estimate = this.lastSample?.availableKbps;
    const fits = estimate === undefined ? Infinity : Math.max(o.trialPassKbps, capStep(HEADROOM * estimate - AUDIO_AND_HEADERS_KBPS));
    const cap = Math.min(fits, this.lossCapKbps ?? Infinity);
    return cap >= o.videoCapKbps ? undefined : cap;
  }

  /** What the last sample said, for the page. */
  describeLink(): string {
    return this.lastSample ? this.describe(this.lastSample) : 'not measured yet';
  }

  /** On standard, a fresh loss report: a lossy one cuts the cap by the loss, a loss-free spell raises it a step. */
  private followLoss(loss: number, t: number): void {
    const o = this.options;
    if (loss > o.trialMaxLoss) {
      const now = this.standardVideoCapKbps() ?? o.videoCapKbps;
      this.setLossCap(capStep(now * (1 - loss)), t);
    } else if (loss > LOSS_FREE) {
      this.lossCapSince = t; // light loss: hold the cap
    } else if (this.lossCapKbps !== undefined && t - this.lossCapSince >= LOSS_CAP_RAISE_MS) {
      this.setLossCap(this.lossCapKbps + CAP_STEP_KBPS, t);
    }
  }

  private setLossCap(kbps: number, t: number): void {
    const o = this.options;
    this.lossCapKbps = kbps >= o.videoCapKbps ? undefined : Math.max(o.trialPassKbps, kbps);
    this.lossCapSince = t;
  }

  private trial(why: string, atMs: number): AutoDecision {
    this.stepSince = atMs;
    this.reportsInTrial = 0;
    const video = this.options.trialStartKbps;
    return { choice: 'trial', reason: `${why}; trying standard video at ${video} kbit/s`, atMs, trialVideoKbps: video };
  }

  private trialStep(video: number, t: number): AutoDecision {
    this.stepSince = t;
    // Same spell: the switch time stays the trial's start.
    this.current = { ...this.current, reason: `trying standard video at ${video} kbit/s`, trialVideoKbps: video };
    return this.current;
  }

  /** Back to kiloface; a retry that failed doubles the wait before the next. */
  private fail(reason: string, t: number): AutoDecision {
    if (this.retry) this.trialAfterMs = Math.min(this.options.maxTrialAfterMs, this.trialAfterMs * 2);
    this.retry = true;
    return this.switchTo({ choice: 'kiloface', reason, atMs: t });
  }

  private describe(s: LinkSample): string {
    const o = this.options;
    const parts: string[] = [];
    if (s.availableKbps !== undefined) parts.push(`link estimate ${kbps(s.availableKbps)} kbit/s${s.availableKbps < o.standardNeedsKbps ? ` < ${o.standardNeedsKbps} needed` : ''}`);
    if ((s.loss ?? 0) > 0) parts.push(`loss ${((s.loss ?? 0) * 100).toFixed(0)}%`);
    if ((s.rttMs ?? 0) > o.maxRttMs) parts.push(`RTT ${Math.round(s.rttMs ?? 0)} ms`);
    return parts.join(', ') || 'link fine';
  }

  private switchTo(decision: AutoDecision): AutoDecision {
    this.current = decision;
    this.lossCapKbps = undefined;
    this.poorSince = this.cleanSince = undefined;
    return this.current;
  }
}

/** Down to a whole cap step. */
const capStep = (kbps: number): number => Math.floor(kbps / CAP_STEP_KBPS) * CAP_STEP_KBPS;
const kbps = (v: number | undefined): string => (v === undefined ? '?' : String(Math.round(v)));
const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;
