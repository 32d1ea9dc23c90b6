// Puts the chosen video mode into effect on the call: which streams go out (standard track,
// kiloface), what the others are told, and, in `auto`, the policy fed with the link once a
// second. Also the call's wire totals (self tile), from the same getStats() readings.
import { Emitter } from '../../codec/emitter.ts';
import type { NeuralStream } from '../neural/neural-stream.ts';
import { CallWireMeter, LossMeter, linkSample, transportCounters, worstLink, type WireRates } from '../stats/call-wire.ts';
import type { Call } from './call.ts';
import { streamsFor, type ActiveVideo, type VideoMode, type VideoModeState } from './video-mode.ts';
import { AutoVideoPolicy, defaultPolicyOptions, type AutoPolicyOptions, type LinkSample } from './video-mode-policy.ts';

export interface VideoSwitch {
  atEpochMs: number;
  from: ActiveVideo;
  to: ActiveVideo;
  mode: VideoMode;
  reason: string;
}

type Events = {
  /** What we send changed (or why). */
  state: [VideoModeState];
  /** A change of what we send, for the page's log. */
  switch: [VideoSwitch];
  /** Once a second: the whole call on the wire, and the link as the sender sees it. */
  measured: [WireRates, LinkSample];
};

const TICK_MS = 1000;

export class VideoModeController extends Emitter<Events> {
  private mode: VideoMode;
  private readonly policy: AutoVideoPolicy;
  private readonly meter = new CallWireMeter();
  private readonly loss = new LossMeter();
  private current: VideoModeState;
  private readonly timer: ReturnType<typeof setInterval>;
  private ticking = false;
  readonly switches: VideoSwitch[] = [];
  latestWire: WireRates | undefined;
  latestLink: LinkSample | undefined;

  /** `standardNeedsKbps` overrides what auto thinks standard video needs (else the cap + audio): for tuning and tests. */
  constructor(
    private readonly call: Call,
    private readonly neural: NeuralStream,
    mode: VideoMode,
    private readonly standardNeedsKbps?: number,
  ) {
    super();
    this.mode = mode;
    this.policy = new AutoVideoPolicy(this.policyOptions(), performance.now());
    this.current = { mode, active: 'none', reason: '' };
    this.apply();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  get state(): VideoModeState {
    return this.current;
  }

  get videoMode(): VideoMode {
    return this.mode;
  }

  setMode(mode: VideoMode): void {
    this.mode = mode;
    this.apply();
  }

  setCameraOff(off: boolean): void {
    this.call.setCameraOff(off);
    this.apply();
  }

  /** The video cap changed: what standard video needs changes with it. */
  settingsChanged(): void {
    this.policy.setOptions(this.policyOptions());
  }

  private policyOptions(): AutoPolicyOptions {
    const options = defaultPolicyOptions(this.call.mediaSettings.videoCapKbps);
    return this.standardNeedsKbps ? { ...options, standardNeedsKbps: this.standardNeedsKbps } : options;
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** What goes out now, and why. */
  private decide(): { active: ActiveVideo; reason: string; videoCapLimitKbps?: number } {
    if (this.call.state.cameraOff) return { active: 'none', reason: 'camera off' };
    if (this.mode !== 'auto') return { active: this.mode, reason: 'picked by the sender' };
    if (!this.neural.sending) return { active: 'standard', reason: 'kiloface is off on the sender' };
    const { choice, reason, trialVideoKbps } = this.policy.decision;
    // A trial adds capped standard video to kiloface, so the face goes on if the link cannot take it.
    if (choice === 'trial') return { active: 'both', reason, videoCapLimitKbps: trialVideoKbps };
    return { active: choice, reason, videoCapLimitKbps: this.policy.standardVideoCapKbps() };
  }

  private apply(): void {
    const { active, reason, videoCapLimitKbps } = this.decide();
    const streams = streamsFor(active);
    void this.call.setVideoCapLimit(videoCapLimitKbps);
    // Turning the camera back on calls apply() again, which restores both.
    this.call.setStandardVideo(streams.standard);
    this.neural.setSending(streams.kiloface);
    const previous = this.current;
    this.current = { mode: this.mode, active, reason };
    if (previous.active === active && previous.reason === reason && previous.mode === this.mode) return;
    this.call.setVideoState(this.current);
    this.emit('state', this.current);
    if (previous.active !== active) {
      const change: VideoSwitch = { atEpochMs: Date.now(), from: previous.active, to: active, mode: this.mode, reason };
      this.switches.push(change);
      this.emit('switch', change);
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking) return; // getStats is slow on a busy machine: never pile up
    this.ticking = true;
    try {
      const connections = await this.call.connectionStats();
      const now = performance.now();
      const wire = this.meter.update(new Map(connections.map((c) => [c.key, transportCounters(c.snapshot)])), now);
      const senders = connections.filter((c) => c.sendsOurMedia);
      this.loss.retain(senders.map((c) => c.key));
      if (senders.length === 0) return;
      const link = worstLink(senders.map((c) => linkSample(c.snapshot, now, this.loss.read(c.key, c.snapshot))), now);
      this.latestLink = link;
      if (wire) {
        this.latestWire = wire;
        this.emit('measured', wire, link);
      }
      if (this.mode !== 'auto') return;
      if (this.policy.update(link)) this.apply();
      else void this.call.setVideoCapLimit(this.decide().videoCapLimitKbps); // standard's cap follows the estimate
    } finally {
      this.ticking = false;
    }
  }
}
