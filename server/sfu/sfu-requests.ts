// The SFU requests a browser may make, each with the schema its parameters must pass before
// mediasoup sees them. mediasoup checks little itself: a wrong type deep in RTP parameters threw
// in the middle of its FlatBuffers serialisation and left the worker's channel unusable
// (issue 13). So every request is parsed here into a fresh object holding only known fields of
// the right type and size; anything else is refused with a message naming the field.

import type { DtlsParameters, MediaKind, RtpCapabilities, RtpHeaderExtensionUri, RtpParameters, SctpStreamParameters } from 'mediasoup/types';
import type { SfuMethod } from '../../protocol/sfu.ts';

export class SfuRequestError extends Error {}

/** A parser: returns the cleaned value or throws SfuRequestError naming `at`. */
type Parser<T> = (value: unknown, at: string) => T;

const fail = (at: string, expected: string): never => {
  throw new SfuRequestError(`${at} must be ${expected}`);
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const int =
  (min: number, max: number): Parser<number> =>
  (v, at) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : fail(at, `an integer in ${min}-${max}`);

const str =
  (maxLength: number, pattern?: RegExp): Parser<string> =>
  (v, at) =>
    typeof v === 'string' && v.length <= maxLength && (!pattern || pattern.test(v)) ? v : fail(at, `a string of at most ${maxLength} characters${pattern ? ` matching ${pattern}` : ''}`);

const bool: Parser<boolean> = (v, at) => (typeof v === 'boolean' ? v : fail(at, 'true or false'));

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (v, at) =>
    values.includes(v as T) ? (v as T) : fail(at, `one of ${values.join(', ')}`);

const array =
  <T>(maxItems: number, item: Parser<T>): Parser<T[]> =>
  (v, at) =>
    Array.isArray(v) && v.length <= maxItems ? v.map((x, i) => item(x, `${at}[${i}]`)) : fail(at, `an array of at most ${maxItems} items`);

type Shape = Record<string, { parse: Parser<unknown>; optional?: boolean }>;
type Parsed<S extends Shape> = { [K in keyof S as S[K]['optional'] extends true ? never : K]: ReturnType<S[K]['parse']> } & {
  [K in keyof S as S[K]['optional'] extends true ? K : never]?: ReturnType<S[K]['parse']>;
};

/** An object with these fields; unknown fields are dropped (mediasoup-client adds some we do not use). */
const object =
  <S extends Shape>(shape: S): Parser<Parsed<S>> =>
  (v, at) => {
    if (!isRecord(v)) return fail(at, 'an object');
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(shape)) {
      const value = Object.hasOwn(v, key) ? v[key] : undefined;
      if (value === undefined) {
        if (!field.optional) fail(`${at}.${key}`, 'present');
        continue;
      }
      out[key] = field.parse(value, `${at}.${key}`);
    }
    return out as Parsed<S>;
  };

const req = <T>(parse: Parser<T>) => ({ parse });
const opt = <T>(parse: Parser<T>) => ({ parse, optional: true as const });

/** Codec and header-extension parameters: a small map of plain values (fmtp lines). */
const parameterMap: Parser<Record<string, unknown>> = (v, at) => {
  if (!isRecord(v)) return fail(at, 'an object');
  const keys = Object.keys(v);
  if (keys.length > 32) fail(at, 'at most 32 parameters');
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    str(64, /^[A-Za-z0-9_.-]+$/)(key, `${at} key`);
    const value = v[key];
    const where = `${at}.${key}`;
    if (typeof value === 'string') out[key] = str(256)(value, where);
    else if (typeof value === 'number') out[key] = Number.isFinite(value) ? value : fail(where, 'a finite number');
    else if (typeof value === 'boolean') out[key] = value;
    else out[key] = array(32, int(-(2 ** 31), 2 ** 31 - 1))(value, where);
  }
  return out;
};

const UINT32 = 2 ** 32 - 1;
const token = str(64, /^[\x21-\x7e]*$/); // printable ASCII, no spaces: ids, rids, cnames
const mimeType = str(64, /^(audio|video)\/[A-Za-z0-9._-]+$/);
const kind = oneOf<MediaKind>('audio', 'video');
const rtcpFeedback = array(32, object({ type: req(str(32, /^[A-Za-z0-9-]+$/)), parameter: opt(str(32, /^[A-Za-z0-9 -]*$/)) }));
// mediasoup maps each URI to an enum while serialising: an unknown one would throw half-way.
const HEADER_EXTENSION_URIS = [
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension',
  'urn:3gpp:video-orientation',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time',
  'urn:ietf:params:rtp-hdrext:toffset',
  'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'urn:mediasoup:params:rtp-hdrext:packet-id',
] as const satisfies readonly RtpHeaderExtensionUri[];
const headerExtensionUri = oneOf<RtpHeaderExtensionUri>(...HEADER_EXTENSION_URIS);

const rtpParameters: Parser<RtpParameters> = object({
  mid: opt(token),
  msid: opt(str(128, /^[\x20-\x7e]*$/)),
  codecs: req(
    array(
      16,
      object({
        mimeType: req(mimeType),
        payloadType: req(int(0, 127)),
        clockRate: req(int(1, 1_000_000)),
        channels: opt(int(1, 8)),
        parameters: opt(parameterMap),
        rtcpFeedback: opt(rtcpFeedback),
      }),
    ),
  ),
  headerExtensions: opt(
    array(16, object({ uri: req(headerExtensionUri), id: req(int(1, 255)), encrypt: opt(bool), parameters: opt(parameterMap) })),
  ),
  encodings: opt(
    array(
      8,
      object({
        ssrc: opt(int(0, UINT32)),
        rid: opt(str(16, /^[A-Za-z0-9_-]+$/)),
        codecPayloadType: opt(int(0, 127)),
        rtx: opt(object({ ssrc: req(int(0, UINT32)) })),
        dtx: opt(bool),
        scalabilityMode: opt(str(16, /^[A-Za-z0-9_]+$/)),
        maxBitrate: opt(int(0, 100_000_000)),
      }),
    ),
  ),
  rtcp: opt(object({ cname: opt(token), reducedSize: opt(bool) })),
}) as Parser<RtpParameters>;

const rtpCapabilities: Parser<RtpCapabilities> = object({
  codecs: opt(
    array(
      64,
      object({
        kind: req(kind),
        mimeType: req(mimeType),
        preferredPayloadType: req(int(0, 127)),
        clockRate: req(int(1, 1_000_000)),
        channels: opt(int(1, 8)),
        parameters: opt(parameterMap),
        rtcpFeedback: opt(rtcpFeedback),
      }),
    ),
  ),
  headerExtensions: opt(
    array(
      32,
      object({
        kind: req(kind),
        uri: req(headerExtensionUri),
        preferredId: req(int(1, 255)),
        preferredEncrypt: opt(bool),
        direction: opt(oneOf('sendrecv', 'sendonly', 'recvonly', 'inactive')),
      }),
    ),
  ),
}) as Parser<RtpCapabilities>;

const dtlsParameters: Parser<DtlsParameters> = object({
  role: opt(oneOf('auto', 'client', 'server')),
  fingerprints: req(
    array(8, object({ algorithm: req(oneOf('sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512')), value: req(str(160, /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$/)) })),
  ),
}) as Parser<DtlsParameters>;

const sctpStreamParameters: Parser<SctpStreamParameters> = object({
  streamId: req(int(0, 65534)),
  ordered: opt(bool),
  maxPacketLifeTime: opt(int(0, 65535)),
  maxRetransmits: opt(int(0, 65535)),
});

/** mediasoup's ids are UUIDs. */
const objectId = str(36, /^[0-9a-f-]{36}$/);
const label = str(64);

/** What each method takes, already checked. */
const SCHEMAS = {
  'router-capabilities': object({}),
  'create-transport': object({ direction: req(oneOf('send', 'recv')) }),
  'connect-transport': object({ transportId: req(objectId), dtlsParameters: req(dtlsParameters) }),
  produce: object({ transportId: req(objectId), kind: req(kind), rtpParameters: req(rtpParameters) }),
  'produce-data': object({ transportId: req(objectId), sctpStreamParameters: req(sctpStreamParameters), label: opt(label), protocol: opt(label) }),
  'close-producer': object({ producerId: req(objectId) }),
  ready: object({ rtpCapabilities: req(rtpCapabilities) }),
  'resume-consumer': object({ consumerId: req(objectId) }),
} satisfies Record<SfuMethod, Parser<unknown>>;

export type SfuParams = { [M in SfuMethod]: ReturnType<(typeof SCHEMAS)[M]> };

/** Checks one request's parameters against its method's schema; throws SfuRequestError. */
export function parseSfuParams<M extends SfuMethod>(method: M, data: unknown): SfuParams[M] {
  return SCHEMAS[method](data, method) as SfuParams[M];
}
