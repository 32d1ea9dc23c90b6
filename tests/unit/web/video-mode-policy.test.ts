import { describe, expect, it } from 'vitest';
import { AutoVideoPolicy, defaultPolicyOptions, type LinkSample } from '../../../web/call/video-mode-policy.ts';
import { describeVideoState, parseVideoMode, parseVideoModeState, streamsFor } from '../../../web/call/video-mode.ts';

/** Feeds one sample a second from `fromS` to `toS` (inclusive) and returns the switches seen. */
function feed(policy: AutoVideoPolicy, fromS: number, toS: number, sample: Omit<LinkSample, 'atMs'>): { atS: number; choice: string }[] {
  const out: { atS: number; choice: string }[] = [];
  for (let s = fromS; s <= toS; s++) {
    const d = policy.update({ ...sample, atMs: s * 1000 });
    if (d) out.push({ atS: s, choice: d.choice });
  }
  return out;
}

const options = defaultPolicyOptions(100); // standard needs 60 + 30 kbit/s; trials 16 -> 32 -> 60

/** Feeds clean samples until the call's first trial hands over to standard (at 12 s). */
function onStandard(p: AutoVideoPolicy): void {
  feed(p, 1, 12, { availableKbps: 900, loss: 0, rttMs: 20 });
  expect(p.decision.choice).toBe('standard');
}

describe('auto video policy', () => {
  it('starts on kiloface, tries standard after 5 s of clean link, ramps the video cap while clean, then carries standard', () => {
    const p = new AutoVideoPolicy(options, -30_000); // the page started 30 s before the call connected
    expect(p.decision).toMatchObject({ choice: 'kiloface', reason: 'starting: measuring the link' });
    const steps: (number | string)[] = [];
    for (let s = 1; s <= 120; s++) {
      const d = p.update({ atMs: s * 1000, availableKbps: 900, loss: 0, rttMs: 20 });
      if (d) steps.push(d.choice === 'trial' ? `${d.trialVideoKbps} at ${s}` : `${d.choice} at ${s}`);
    }
    // 5 s from the first measurement; then 2 s per step: 16 -> 32 -> 60 (the minimum standard video), then standard, and it stays.
    expect(steps).toEqual(['16 at 6', '32 at 8', '60 at 10', 'standard at 12']);
    expect(p.decision.reason).toBe('the link carried 60 kbit/s of video without loss');
  });

  it('a trial steps up only on fresh loss reports, and fails when they stop coming (a flooded link loses them)', () => {
    const p = new AutoVideoPolicy(options);
    feed(p, 1, 6, { availableKbps: 300, loss: 0 }); // the trial begins at 6 s
    expect(feed(p, 7, 12, { availableKbps: 300 })).toEqual([{ atS: 11, choice: 'kiloface' }]);
    expect(p.decision.reason).toContain('no loss reports for 5 s');
    const q = new AutoVideoPolicy(options);
    feed(q, 1, 6, { availableKbps: 300, loss: 0 });
    expect(feed(q, 7, 9, { availableKbps: 300 })).toEqual([]); // the step is due at 8 s but waits for a report
    expect(feed(q, 10, 10, { availableKbps: 300, loss: 0 })).toEqual([{ atS: 10, choice: 'trial' }]);
    expect(q.decision.trialVideoKbps).toBe(32);
  });

  it('a trial forgives its first lossy report (a keyframe burst) and ends at the next: a thin link costs the voice seconds, not a flood', () => {
    const once = new AutoVideoPolicy(options);
    feed(once, 1, 6, { availableKbps: 300, loss: 0 });
    expect(feed(once, 7, 7, { availableKbps: 300, loss: 0.3 })).toEqual([]);
    expect(feed(once, 8, 8, { availableKbps: 300, loss: 0 })).toEqual([{ atS: 8, choice: 'trial' }]);
    const p = new AutoVideoPolicy(options);
    feed(p, 1, 6, { availableKbps: 300, loss: 0 });
    expect(feed(p, 7, 8, { availableKbps: 300, loss: 0.3 })).toEqual([{ atS: 8, choice: 'kiloface' }]);
    expect(p.decision.reason).toContain('trying standard at 16 kbit/s: link estimate 300 kbit/s, loss 30%');
  });

  it('on standard, leaves a fifth of the estimate free where the link is thin, and lifts the limit where it is not', () => {
    const p = new AutoVideoPolicy(options);
    expect(p.standardVideoCapKbps()).toBeUndefined(); // not on standard
    onStandard(p);
    feed(p, 13, 40, { availableKbps: 900, loss: 0 }); // the loss cap has risen to the user's (next test)
    expect(p.standardVideoCapKbps()).toBeUndefined(); // 900 kbit/s: the user's 100
    p.update({ atMs: 41_000, availableKbps: 140 });
    expect(p.standardVideoCapKbps()).toBe(80); // 0.8 x 140 - 30 = 82 -> 80
    p.update({ atMs: 42_000, availableKbps: 95 });
    expect(p.standardVideoCapKbps()).toBe(60); // never below the minimum standard video
  });

  it('on standard, starts at the rate the trial proved, rises a step every 5 s of loss-free reports, and a lossy report cuts it by the loss', () => {
    const p = new AutoVideoPolicy(options);
    onStandard(p); // at 12 s, after 60 kbit/s passed
    const caps: (number | undefined)[] = [p.standardVideoCapKbps()];
    for (let s = 13; s <= 32; s++) {
      p.update({ atMs: s * 1000, availableKbps: 900, loss: 0 });
      if (s % 5 === 2) caps.push(p.standardVideoCapKbps());
    }
    expect(caps).toEqual([60, 70, 80, 90, undefined]); // at 12, 17, 22, 27, 32 s: then the user's 100
    // The estimate overshoots a policed link: the far end's loss report is what counts. 35 % lost at 100 -> 60.
    p.update({ atMs: 33_000, availableKbps: 275, loss: 0.35 });
    expect(p.standardVideoCapKbps()).toBe(60);
    // Light loss holds the cap; only 5 s without loss raise it again. Silence (no report) changes nothing.
    feed(p, 34, 40, { availableKbps: 275, loss: 0.03 });
    expect(p.standardVideoCapKbps()).toBe(60);
    feed(p, 41, 44, { availableKbps: 275, loss: 0 });
    feed(p, 45, 50, { availableKbps: 275 });
    expect(p.standardVideoCapKbps()).toBe(60);
    p.update({ atMs: 51_000, availableKbps: 275, loss: 0 });
    expect(p.standardVideoCapKbps()).toBe(70);
    // A lossy report below the 15 % that makes a sample poor cuts too: 80 x (1 - 0.12) = 70.4 -> 70.
    feed(p, 52, 56, { availableKbps: 275, loss: 0 });
    expect(p.standardVideoCapKbps()).toBe(80);
    p.update({ atMs: 57_000, availableKbps: 275, loss: 0.12 });
    expect(p.standardVideoCapKbps()).toBe(70);
    expect(p.decision.choice).toBe('standard');
  });

  it('on standard, drops to kiloface only after the estimate stays below the need for the hold time', () => {
    const p = new AutoVideoPolicy(options);
    onStandard(p);
    // Dips shorter than the 4 s hold do not switch.
    expect(feed(p, 13, 15, { availableKbps: 60 })).toEqual([]);
    expect(feed(p, 16, 16, { availableKbps: 400 })).toEqual([]);
    // A lasting drop: the switch comes 4 s after it began.
    expect(feed(p, 17, 30, { availableKbps: 60 })).toEqual([{ atS: 21, choice: 'kiloface' }]);
    expect(p.decision.reason).toContain('60 kbit/s < 90 needed');
  });

  it('on standard, drops on heavy loss or RTT even when the estimate looks fine, not on light loss', () => {
    const light = new AutoVideoPolicy(options);
    onStandard(light);
    expect(feed(light, 13, 60, { availableKbps: 500, loss: 0.1 })).toEqual([]);
    const heavy = new AutoVideoPolicy(options);
    onStandard(heavy);
    expect(feed(heavy, 13, 30, { availableKbps: 500, loss: 0.25 })).toEqual([{ atS: 17, choice: 'kiloface' }]);
    const rtt = new AutoVideoPolicy(options);
    onStandard(rtt);
    expect(feed(rtt, 13, 30, { availableKbps: 500, rttMs: 1500 })).toEqual([{ atS: 17, choice: 'kiloface' }]);
    expect(rtt.decision.reason).toContain('RTT 1500 ms');
  });

  it('on kiloface, tries again only after a clean spell (loss holds it back), backing off after each failed try', () => {
    const p = new AutoVideoPolicy(options);
    const switches: { atS: number; choice: string }[] = [];
    // A thin link: clean while only kiloface goes out, 30 % loss as soon as video is added.
    for (let s = 1; s <= 800; s++) {
      const trying = p.decision.choice === 'trial';
      const d = p.update({ atMs: s * 1000, availableKbps: 300, loss: trying ? 0.3 : 0, rttMs: 40 });
      if (d) switches.push({ atS: s, choice: d.choice });
    }
    const trials = switches.filter((x) => x.choice === 'trial').map((x) => x.atS);
    // The first trial at 6 s fails at 8 s; the next waits a minute of clean link (counted from the
    // first clean report after the drop), then 2, 4 and (at most) 5 min; each try lasts two reports.
    expect(trials).toEqual([6, 69, 192, 435, 738]);
    expect(switches.filter((x) => x.choice === 'standard')).toEqual([]);
    // Some loss even on kiloface (not clean): no trial at all.
    const lossy = new AutoVideoPolicy(options);
    expect(feed(lossy, 1, 200, { availableKbps: 300, loss: 0.08 })).toEqual([]);
    expect(lossy.decision.choice).toBe('kiloface');
  });

  it('a standard spell that fails soon after a retry doubles the wait; one that holds a minute resets it', () => {
    const p = new AutoVideoPolicy(options);
    feed(p, 1, 6, { loss: 0 }); // the first trial at 6 s
    expect(feed(p, 7, 8, { loss: 0.3 })).toEqual([{ atS: 8, choice: 'kiloface' }]);
    // The link recovers: the retry a minute later (69 s) passes at 75 s.
    expect(feed(p, 9, 75, { availableKbps: 900, loss: 0 })).toEqual([
      { atS: 69, choice: 'trial' },
      { atS: 71, choice: 'trial' },
      { atS: 73, choice: 'trial' },
      { atS: 75, choice: 'standard' },
    ]);
    // It fails soon after: the next try waits 2 min.
    expect(feed(p, 76, 90, { availableKbps: 900, loss: 0.5 })).toEqual([{ atS: 80, choice: 'kiloface' }]);
    expect(feed(p, 91, 300, { availableKbps: 900, loss: 0 })[0]).toEqual({ atS: 211, choice: 'trial' });
    feed(p, 301, 400, { availableKbps: 900, loss: 0 }); // standard holds past a minute
    expect(p.decision.choice).toBe('standard');
    // After the next drop, the first try waits the base minute again.
    expect(feed(p, 401, 410, { availableKbps: 900, loss: 0.5 })).toEqual([{ atS: 405, choice: 'kiloface' }]);
    expect(feed(p, 411, 500, { availableKbps: 900, loss: 0 })[0]).toEqual({ atS: 471, choice: 'trial' });
  });
});

describe('video modes', () => {
  it('parses modes and peer states, and says what each sends', () => {
    expect(parseVideoMode('KILOFACE')).toBe('kiloface');
    expect(parseVideoMode('hd')).toBeUndefined();
    expect(streamsFor('kiloface')).toEqual({ standard: false, kiloface: true });
    expect(streamsFor('both')).toEqual({ standard: true, kiloface: true });
    expect(streamsFor('none')).toEqual({ standard: false, kiloface: false });
    expect(parseVideoModeState({ mode: 'auto', active: 'kiloface', reason: 'x'.repeat(500) })?.reason).toHaveLength(160);
    expect(parseVideoModeState({ mode: 'auto', active: 'hd' })).toBeUndefined();
    expect(parseVideoModeState('kiloface')).toBeUndefined();
    expect(describeVideoState({ mode: 'auto', active: 'kiloface', reason: 'link estimate 40 kbit/s' })).toBe('kiloface (auto: link estimate 40 kbit/s)');
  });
});
