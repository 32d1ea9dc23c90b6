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

const options = defaultPolicyOptions(100); // standard needs 130 kbit/s; up at 182

describe('auto video policy', () => {
  it('starts on standard and stays there on a good link', () => {
    const p = new AutoVideoPolicy(options);
    expect(p.decision.choice).toBe('standard');
    expect(feed(p, 1, 120, { availableKbps: 900, loss: 0, rttMs: 20 })).toEqual([]);
  });

  it('drops to kiloface only after the estimate stays below the need for the hold time', () => {
    const p = new AutoVideoPolicy(options);
    // Dips shorter than the 4 s hold do not switch.
    expect(feed(p, 1, 3, { availableKbps: 60 })).toEqual([]);
    expect(feed(p, 4, 4, { availableKbps: 400 })).toEqual([]);
    expect(feed(p, 5, 7, { availableKbps: 60 })).toEqual([]);
    expect(feed(p, 8, 8, { availableKbps: 400 })).toEqual([]);
    // A lasting drop: the switch comes 4 s after it began.
    expect(feed(p, 10, 20, { availableKbps: 60 })).toEqual([{ atS: 14, choice: 'kiloface' }]);
    expect(p.decision.reason).toContain('60 kbit/s < 130 needed');
  });

  it('drops on heavy loss or RTT even when the estimate looks fine', () => {
    expect(feed(new AutoVideoPolicy(options), 1, 10, { availableKbps: 500, loss: 0.25 })).toEqual([{ atS: 5, choice: 'kiloface' }]);
    const rtt = new AutoVideoPolicy(options);
    expect(feed(rtt, 1, 10, { availableKbps: 500, rttMs: 1500 })).toEqual([{ atS: 5, choice: 'kiloface' }]);
    expect(rtt.decision.reason).toContain('RTT 1500 ms');
  });

  it('returns only when the estimate stays above the higher threshold (hysteresis), not in between', () => {
    const p = new AutoVideoPolicy(options);
    feed(p, 1, 10, { availableKbps: 60 });
    expect(p.decision.choice).toBe('kiloface');
    // Above the need (130) but below the up threshold (182), with some loss so no trial either: stays.
    expect(feed(p, 11, 200, { availableKbps: 150, loss: 0.07 })).toEqual([]);
    // Above 182 for 8 s: back to standard.
    expect(feed(p, 201, 220, { availableKbps: 250, loss: 0 })).toEqual([{ atS: 209, choice: 'standard' }]);
  });

  it('tries standard again on a clean link the estimator cannot vouch for, backing off after each failed try', () => {
    const p = new AutoVideoPolicy(options);
    const switches: { atS: number; choice: string }[] = [];
    // A thin but clean link: while on kiloface the estimate stays low (application-limited) with no
    // loss; on standard it is too little (estimate falls), so every trial fails.
    for (let s = 1; s <= 400; s++) {
      const d = p.update({ atMs: s * 1000, availableKbps: 45, loss: 0, rttMs: 40 });
      if (d) switches.push({ atS: s, choice: d.choice });
    }
    const trials = switches.filter((x) => x.choice === 'standard').map((x) => x.atS);
    const gaps = trials.slice(1).map((t, i) => t - trials[i]!);
    // The first trial 20 s after the drop; then the waits double: 40, 80, 160 s (plus the ~6 s a trial lasts).
    expect(trials[0]).toBe(26);
    expect(gaps).toEqual([46, 86, 166]);
    // Never flaps: at least 40 s between any two switches after the first drop.
    const times = switches.map((x) => x.atS);
    for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(4);
    expect(switches.length).toBeLessThanOrEqual(9);
  });

  it('backs off too when the estimate vouches for standard but standard fails (an estimate nobody probed)', () => {
    // Through a 32 kbit/s relay: on kiloface the estimate stayed at its starting ~300 kbit/s; each
    // return to standard met 60-80 % loss. Before, auto flapped back every ~20-40 s.
    const p = new AutoVideoPolicy(options);
    const returns: number[] = [];
    for (let s = 1; s <= 400; s++) {
      const onStandard = p.decision.choice === 'standard';
      const d = p.update({ atMs: s * 1000, availableKbps: 300, loss: onStandard ? 0.7 : 0, rttMs: 40 });
      if (d?.choice === 'standard') returns.push(s);
    }
    const gaps = returns.slice(1).map((t, i) => t - returns[i]!);
    // Waits of 40, 80, 160 s after each failed return, plus the ~5 s each one lasts.
    expect(gaps).toEqual([45, 85, 165]);
  });

  it('a trial that holds resets the back-off', () => {
    const p = new AutoVideoPolicy(options);
    feed(p, 1, 5, { availableKbps: 45 }); // -> kiloface at 5 s
    feed(p, 6, 80, { availableKbps: 45, loss: 0 }); // trials at 26 and 72 fail -> the next would wait 80 s
    expect(p.decision.choice).toBe('kiloface');
    // The link recovers: standard comes back on the estimate once the back-off (80 s after the drop at 77 s) is out, and holds.
    expect(feed(p, 81, 300, { availableKbps: 800, loss: 0 })).toEqual([{ atS: 157, choice: 'standard' }]);
    // After the next drop, the first trial waits the base 20 s again.
    expect(feed(p, 301, 305, { availableKbps: 45 })).toEqual([{ atS: 305, choice: 'kiloface' }]);
    expect(feed(p, 306, 400, { availableKbps: 45 })[0]).toEqual({ atS: 326, choice: 'standard' });
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
