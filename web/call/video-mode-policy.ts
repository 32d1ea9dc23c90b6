// The `auto` video mode's decision: standard video when the link carries it well, kiloface when it
// does not, with hysteresis so that it does not flap. Pure (samples in, decisions out), so it is
// unit-tested without a browser; video-mode-controller.ts feeds it getStats() once a second.
//
// Why the trial: while only kiloface and audio go out (~20 kbit/s), WebRTC's bandwidth estimator
// is application-limited and may never report the room that a recovered link has. So after a
// clean spell (no loss, sane RTT) the policy tries standard video again; a failed try doubles the
// wait before the next one (20 s, 40 s, … up to 5 min), a lasting success resets it.

export interface LinkSample {
  atMs: number;
  /** The send-side bandwidth estimate (availableOutgoingBitrate of the selected candidate pair), kbit/s. */
  availableKbps?: number;
  /** Fraction of our packets the far end reports lost (remote-inbound-rtp), 0..1. */
  loss?: number;
  rttMs?: number;
}

export type AutoChoice = 'standard' | 'kiloface';

export interface AutoPolicyOptions {
  /** What standard video needs on the wire: the video cap plus audio and headers, kbit/s. */
  standardNeedsKbps: number;
  /** Drop to kiloface when the link stays poor this long. */
  downHoldMs: number;
  /** Return to standard only when the estimate stays above `upFactor` × the need this long. */
  upHoldMs: number;
  upFactor: number;
  /** Loss above this (or RTT above maxRttMs) makes a sample poor; half of it is needed to count as clean. */
  maxLoss: number;
  maxRttMs: number;
  /** First wait before trying standard again on a clean link the estimator cannot vouch for; doubles on each failure. */
  trialAfterMs: number;
  maxTrialAfterMs: number;
  /** Standard that holds this long was no failed trial: the back-off resets. */
  stableMs: number;
}

export const AUDIO_AND_HEADERS_KBPS = 30;

export function defaultPolicyOptions(videoCapKbps: number): AutoPolicyOptions {
  return {
    standardNeedsKbps: videoCapKbps + AUDIO_AND_HEADERS_KBPS,
    downHoldMs: 4000,
    upHoldMs: 8000,
    upFactor: 1.4,
    maxLoss: 0.1,
    maxRttMs: 1000,
    trialAfterMs: 20_000,
    maxTrialAfterMs: 300_000,
    stableMs: 60_000,
  };
}

export interface AutoDecision {
  choice: AutoChoice;
  reason: string;
  atMs: number;
}

export class AutoVideoPolicy {
  private current: AutoDecision;
  private poorSince: number | undefined;
  private goodSince: number | undefined;
  private cleanSince: number | undefined;
  private trialAfterMs: number;
  /** The current standard spell began as a trial: if it fails, the next trial waits twice as long. */
  private onTrial = false;
  private lastSample: LinkSample | undefined;

  /** Starts on standard: the estimator starts high (~300 kbit/s) and learns a thin link within seconds. */
  constructor(
    private options: AutoPolicyOptions,
    startMs = 0,
  ) {
    this.current = { choice: 'standard', reason: 'starting; link not measured yet', atMs: startMs };
    this.trialAfterMs = options.trialAfterMs;
  }

  get decision(): AutoDecision {
    return this.current;
  }

  /** The video cap changed: standard needs a different rate. */
  setOptions(options: AutoPolicyOptions): void {
    this.options = options;
  }

  /** One measurement; returns the new decision when it switches, undefined otherwise. */
  update(sample: LinkSample): AutoDecision | undefined {
    const o = this.options;
    const t = sample.atMs;
    this.lastSample = sample;
    const lossy = (sample.loss ?? 0) > o.maxLoss || (sample.rttMs ?? 0) > o.maxRttMs;
    const short = sample.availableKbps !== undefined && sample.availableKbps < o.standardNeedsKbps;
    const good = !lossy && sample.availableKbps !== undefined && sample.availableKbps >= o.standardNeedsKbps * o.upFactor;
    // Clean says nothing of the estimate: it is what a trial needs (see the top of this file).
    const clean = (sample.loss ?? 0) <= o.maxLoss / 2 && (sample.rttMs ?? 0) <= o.maxRttMs / 2;
    this.poorSince = lossy || short ? (this.poorSince ?? t) : undefined;
    this.goodSince = good ? (this.goodSince ?? t) : undefined;
    this.cleanSince = clean ? (this.cleanSince ?? t) : undefined;

    if (this.current.choice === 'standard') {
      if (t - this.current.atMs >= o.stableMs) {
        this.trialAfterMs = o.trialAfterMs;
        this.onTrial = false;
      }
      if (this.poorSince !== undefined && t - this.poorSince >= o.downHoldMs) {
        if (this.onTrial) this.trialAfterMs = Math.min(o.maxTrialAfterMs, this.trialAfterMs * 2);
        this.onTrial = false;
        return this.switchTo('kiloface', `${this.describe(sample)} for ${seconds(o.downHoldMs)}`, t);
      }
      return undefined;
    }
    // The estimate alone is no proof either: on kiloface it may still be the estimator's starting
    // guess (~300 kbit/s; seen through a 32 kbit/s relay, which made auto flap every 20-40 s). So
    // a return it vouches for also waits out the back-off, and counts as a trial.
    if (this.goodSince !== undefined && t - this.goodSince >= o.upHoldMs && t - this.current.atMs >= this.trialAfterMs) {
      this.onTrial = true;
      return this.switchTo('standard', `link estimate ${kbps(sample.availableKbps)} kbit/s ≥ ${Math.round(o.standardNeedsKbps * o.upFactor)} for ${seconds(o.upHoldMs)}`, t);
    }
    if (this.cleanSince !== undefined && t - this.cleanSince >= this.trialAfterMs && t - this.current.atMs >= this.trialAfterMs) {
      this.onTrial = true;
      return this.switchTo('standard', `trying standard: no loss for ${seconds(this.trialAfterMs)}`, t);
    }
    return undefined;
  }

  /** What the last sample said, for the page. */
  describeLink(): string {
    return this.lastSample ? this.describe(this.lastSample) : 'not measured yet';
  }

  private describe(s: LinkSample): string {
    const o = this.options;
    const parts: string[] = [];
    if (s.availableKbps !== undefined) parts.push(`link estimate ${kbps(s.availableKbps)} kbit/s${s.availableKbps < o.standardNeedsKbps ? ` < ${o.standardNeedsKbps} needed` : ''}`);
    if ((s.loss ?? 0) > o.maxLoss) parts.push(`loss ${((s.loss ?? 0) * 100).toFixed(0)}%`);
    if ((s.rttMs ?? 0) > o.maxRttMs) parts.push(`RTT ${Math.round(s.rttMs ?? 0)} ms`);
    return parts.join(', ') || 'link fine';
  }

  private switchTo(choice: AutoChoice, reason: string, atMs: number): AutoDecision {
    this.current = { choice, reason, atMs };
    this.poorSince = this.goodSince = this.cleanSince = undefined;
    return this.current;
  }
}

const kbps = (v: number | undefined): string => (v === undefined ? '?' : String(Math.round(v)));
const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;
