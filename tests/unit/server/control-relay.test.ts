// The SFU's routing of the codec's control channel (server/sfu/control-relay.ts): pictures go to
// everyone, a request is answered from the sender's latest picture to the asker alone.
import { describe, expect, it } from 'vitest';
import { PacketType, writePacket } from '../../../codec/bitstream/packet.ts';
import { writeReferencePicture, writeReferenceRequest, type RequestReason } from '../../../codec/stream/reference-packet.ts';
import { ControlRelay } from '../../../server/sfu/control-relay.ts';

const header = (referenceId: number, sequence = 1) => ({ sequence, timestampMs: 0, referenceId });
const picture = (referenceId: number) => writeReferencePicture(header(referenceId), 'webp', new Uint8Array([1, 2, 3, referenceId]));
const anchor = (referenceId: number) => writePacket({ ...header(referenceId), type: PacketType.GeometryAnchor }, new Uint8Array([9, referenceId]));
const request = (target: string, reason: RequestReason = 'join') => writeReferenceRequest(header(0), reason, target);

describe('ControlRelay', () => {
  it('forwards pictures and anchors to everyone and answers a newcomer from the latest pair, to them alone', () => {
    const relay = new ControlRelay();
    expect(relay.route('alice', picture(1), 0)).toEqual([{ from: 'alice', to: 'everyone', bytes: picture(1) }]);
    relay.route('alice', anchor(1), 0);
    relay.route('alice', picture(2), 100);
    relay.route('alice', anchor(2), 100);
    const answer = relay.route('carol', request('alice'), 200);
    expect(answer).toEqual([
      { from: 'alice', to: { peer: 'carol' }, bytes: picture(2) },
      { from: 'alice', to: { peer: 'carol' }, bytes: anchor(2) },
    ]);
    expect(relay.stats).toMatchObject({ forwarded: 4, answeredFromCache: 1, requestsPassedOn: 0 });
  });

  it('passes a request on to the sender alone when nothing is cached or the cached picture failed to decode', () => {
    const relay = new ControlRelay();
    expect(relay.route('bob', request('alice'), 0)).toEqual([{ from: 'bob', to: { peer: 'alice' }, bytes: request('alice') }]);
    relay.route('alice', picture(1), 10);
    expect(relay.route('bob', request('alice', 'decode-failed'), 2000)).toEqual([{ from: 'bob', to: { peer: 'alice' }, bytes: request('alice', 'decode-failed') }]);
    expect(relay.stats.requestsPassedOn).toBe(2);
  });

  it('passes a guide keyframe request on to the sender even with a picture cached, paced apart from reference requests', () => {
    const relay = new ControlRelay();
    relay.route('alice', picture(1), 0);
    relay.route('alice', anchor(1), 0);
    expect(relay.route('bob', request('alice'), 100)).toHaveLength(2); // answered from the cache
    expect(relay.route('bob', request('alice', 'guide-keyframe'), 200)).toEqual([{ from: 'bob', to: { peer: 'alice' }, bytes: request('alice', 'guide-keyframe') }]);
    expect(relay.route('bob', request('alice', 'guide-keyframe'), 700)).toEqual([]); // within a second
    expect(relay.route('bob', request('alice', 'guide-keyframe'), 1300)).toHaveLength(1);
    expect(relay.stats).toMatchObject({ answeredFromCache: 1, requestsPassedOn: 2, dropped: 1 });
  });

  it('answers the picture alone while its anchor has not come, and never pairs a picture with an older anchor', () => {
    const relay = new ControlRelay();
    relay.route('alice', picture(1), 0);
    relay.route('alice', anchor(1), 0);
    relay.route('alice', picture(2), 0);
    relay.route('alice', anchor(1), 0); // late, for the old reference
    expect(relay.route('bob', request('alice'), 10)).toEqual([{ from: 'alice', to: { peer: 'bob' }, bytes: picture(2) }]);
  });

  it('drops garbage, requests to oneself and requests repeated within a second; forgets a peer who left', () => {
    const relay = new ControlRelay();
    relay.route('alice', picture(1), 0);
    expect(relay.route('bob', new Uint8Array([0xff, 1, 2]), 0)).toEqual([]);
    expect(relay.route('alice', request('alice'), 0)).toEqual([]);
    expect(relay.route('bob', request('alice'), 0)).toHaveLength(1);
    expect(relay.route('bob', request('alice'), 500)).toEqual([]);
    expect(relay.route('bob', request('alice'), 1500)).toHaveLength(1);
    expect(relay.stats.dropped).toBe(3);
    relay.forget('alice');
    expect(relay.route('bob', request('alice'), 5000)).toEqual([{ from: 'bob', to: { peer: 'alice' }, bytes: request('alice') }]);
  });
});
