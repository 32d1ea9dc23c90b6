import { describe, expect, it } from 'vitest';
import { CallWireMeter, LossMeter, linkSample, transportCounters, worstLink } from '../../../web/stats/call-wire.ts';
import type { StatsEntry, StatsSnapshot } from '../../../web/stats/peer-stats.ts';

const snap = (...list: Partial<StatsEntry>[]): StatsSnapshot => new Map(list.map((e, i) => [e.id ?? `x${i}`, { timestamp: 0, type: '', id: `x${i}`, ...e } as StatsEntry]));

describe('call wire figures', () => {
  it('counts every transport byte plus 28 B of UDP/IPv4 per packet', () => {
    const s = snap(
      { id: 'T', type: 'transport', bytesSent: 1000, bytesReceived: 500, packetsSent: 10, packetsReceived: 5, selectedCandidatePairId: 'CP' },
      { id: 'CP', type: 'candidate-pair', packetsSent: 99, availableOutgoingBitrate: 250_000, currentRoundTripTime: 0.04 },
      { id: 'R1', type: 'remote-inbound-rtp', fractionLost: 0.02 },
      { id: 'R2', type: 'remote-inbound-rtp', fractionLost: 0.2 },
    );
    expect(transportCounters(s)).toEqual({ bytesSent: 1000, bytesReceived: 500, packetsSent: 10, packetsReceived: 5 });
    expect(linkSample(s, 7, 0.2)).toEqual({ atMs: 7, availableKbps: 250, rttMs: 40, loss: 0.2 });
    // No packet counts on the transport: the selected pair's.
    const noPackets = snap({ id: 'T', type: 'transport', bytesSent: 1, selectedCandidatePairId: 'CP' }, { id: 'CP', type: 'candidate-pair', packetsSent: 4, packetsReceived: 2 });
    expect(transportCounters(noPackets)).toMatchObject({ packetsSent: 4, packetsReceived: 2 });
  });

  it('gives rates per direction across connections, and survives connections coming and going', () => {
    const meter = new CallWireMeter();
    const c = (bytesSent: number, packetsSent: number, bytesReceived = 0, packetsReceived = 0) => ({ bytesSent, packetsSent, bytesReceived, packetsReceived });
    expect(meter.update(new Map([['a', c(0, 0)]]), 0)).toBeUndefined();
    // 1 s later: 1000 B + 10 packets sent on a: (1000 + 280) * 8 = 10.24 kbit.
    expect(meter.update(new Map([['a', c(1000, 10, 100, 1)], ['b', c(5_000_000, 100)]]), 1000)).toEqual({ sendKbps: 10.24, recvKbps: 1.024 });
    // b counts from its first reading; a restarted (counters went back): no negative rate.
    const r = meter.update(new Map([['a', c(10, 1)], ['b', c(5_000_500, 105)]]), 2000)!;
    expect(r.sendKbps).toBeCloseTo(((500 + 5 * 28) * 8) / 1000, 6);
    expect(r.recvKbps).toBe(0);
  });

  it('measures loss as packets lost over packets sent between reports, and says nothing while reports stand still', () => {
    const meter = new LossMeter();
    const reading = (measurements: number, lost: number, sent: number) =>
      meter.read('peer', snap({ id: 'R', type: 'remote-inbound-rtp', localId: 'O', fractionLost: 0.9, roundTripTimeMeasurements: measurements, packetsLost: lost }, { id: 'O', type: 'outbound-rtp', packetsSent: sent }));
    expect(reading(3, 10, 100)).toBeUndefined(); // the first reading is the baseline
    expect(reading(4, 20, 140)).toBe(0.25); // 10 lost of 40 sent
    expect(reading(5, 20, 180)).toBe(0); // a new report, nothing lost (its fractionLost still says 0.9)
    expect(reading(5, 20, 180)).toBeUndefined(); // no new report: nothing to say (the stream stopped, or reports were lost)
  });

  it('keeps readings only for reports and connections that still exist', () => {
    const meter = new LossMeter();
    const report = (id: string, measurements: number, lost: number, sent: number) => [
      { id, type: 'remote-inbound-rtp', localId: `O${id}`, roundTripTimeMeasurements: measurements, packetsLost: lost },
      { id: `O${id}`, type: 'outbound-rtp', packetsSent: sent },
    ];
    meter.read('a', snap(...report('R1', 1, 0, 100)));
    meter.read('b', snap(...report('R1', 1, 0, 100)));
    // R1 of `a` left its stats (a stream ended): when one of that id comes back it is a new baseline.
    expect(meter.read('a', snap(...report('R2', 1, 0, 100)))).toBeUndefined();
    expect(meter.read('a', snap(...report('R1', 2, 50, 150)))).toBeUndefined();
    // `b` closed: forgotten, so a new `b` starts from a baseline too.
    meter.retain(['a']);
    expect(meter.read('b', snap(...report('R1', 2, 50, 150)))).toBeUndefined();
    expect(meter.read('b', snap(...report('R1', 3, 60, 250)))).toBe(0.1);
  });

  it('the tightest connection decides for a mesh', () => {
    expect(worstLink([{ atMs: 0, availableKbps: 300, loss: 0 }, { atMs: 0, availableKbps: 80, rttMs: 30 }, { atMs: 0 }], 5)).toEqual({ atMs: 5, availableKbps: 80, loss: 0, rttMs: 30 });
  });
});
