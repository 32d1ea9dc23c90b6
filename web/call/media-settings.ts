// What the user picks for the standard-codec video track, and how it maps onto WebRTC.

export type VideoCodecName = 'VP8' | 'VP9' | 'H264' | 'AV1';
export const VIDEO_CODECS: readonly VideoCodecName[] = ['VP8', 'VP9', 'H264', 'AV1'];

/** Caps offered to the user, kbit/s: from "2G" (10: what kiloface is compared at) to "fine". */
export const VIDEO_CAPS_KBPS: readonly number[] = [10, 20, 30, 50, 100, 200, 300, 500];

export interface MediaSettings {
  videoCodec: VideoCodecName;
  videoCapKbps: number;
}

export const DEFAULT_MEDIA_SETTINGS: MediaSettings = { videoCodec: 'VP8', videoCapKbps: 100 };

import { OPUS_FMTP, OPUS_PTIME_MS } from '../../protocol/opus-speech.ts';
export { AUDIO_SENDER_MAX_BITRATE } from '../../protocol/opus-speech.ts';

export function parseVideoCodec(raw: string | null | undefined): VideoCodecName | undefined {
  const upper = raw?.toUpperCase().replace('.', '');
  return VIDEO_CODECS.find((c) => c === upper);
}

export function parseCapKbps(raw: string | null | undefined): number | undefined {
  const n = Number(raw);
  return Number.isFinite(n) && n >= 10 && n <= 5000 ? Math.round(n) : undefined;
}

interface CodecLike {
  mimeType: string;
  sdpFmtpLine?: string;
}

function isCodec(codec: CodecLike, name: VideoCodecName): boolean {
  return codec.mimeType.toLowerCase() === `video/${name.toLowerCase()}`;
}

/** H.264 has several profiles; the constrained-baseline, packetization-mode 1 one is the one every browser decodes. */
function h264Rank(codec: CodecLike): number {
  const fmtp = codec.sdpFmtpLine ?? '';
  return (fmtp.includes('packetization-mode=1') ? 0 : 2) + (fmtp.includes('profile-level-id=42e01f') ? 0 : 1);
}

/** The codec list reordered so that `name` comes first; the rest keep their order as fallbacks. */
export function preferCodec<C extends CodecLike>(codecs: readonly C[], name: VideoCodecName): C[] {
  const chosen = codecs.filter((c) => isCodec(c, name));
  if (name === 'H264') chosen.sort((a, b) => h264Rank(a) - h264Rank(b));
  return [...chosen, ...codecs.filter((c) => !isCodec(c, name))];
}

/** The negotiated codec entry to send with, for `RTCRtpEncodingParameters.codec`. */
export function findSendCodec<C extends CodecLike>(codecs: readonly C[], name: VideoCodecName): C | undefined {
  return preferCodec(codecs, name).find((c) => isCodec(c, name));
}

/**
 * Adds our Opus parameters (protocol/opus-speech.ts) to every Opus fmtp line of a local SDP, and
 * `a=ptime`/`a=maxptime` to its audio sections. In a local description they tell the remote
 * sender how to send to us (Chromium follows the remote description's fmtp and ptime), so both
 * ends applying it makes both directions lean.
 */
export function withOpusParams(sdp: string): string {
  const payloadTypes = [...sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000/gim)].map((m) => m[1]);
  let out = sdp;
  for (const pt of payloadTypes) {
    const fmtp = new RegExp(`^a=fmtp:${pt} (.*)$`, 'm');
    const match = fmtp.exec(out);
    const params = new Map<string, string>();
    for (const part of (match?.[1] ?? '').split(';')) {
      const [key, value] = part.split('=');
      if (key?.trim()) params.set(key.trim(), value?.trim() ?? '');
    }
    for (const [key, value] of Object.entries(OPUS_FMTP)) params.set(key, value);
    const line = `a=fmtp:${pt} ${[...params].map(([k, v]) => `${k}=${v}`).join(';')}`;
    out = match ? out.replace(fmtp, line) : out.replace(new RegExp(`^(a=rtpmap:${pt} .*)$`, 'm'), `$1\r\n${line}`);
  }
  return payloadTypes.length > 0 ? withAudioPtime(out) : out;
}

/**
 * Sets a=ptime and a=maxptime in every audio m-section that carries Opus (replacing earlier ones),
 * and drops transport-wide congestion control from it: the receiver would otherwise send feedback
 * packets for our voice ~10 times a second (measured: ~7 kbit/s per direction in a kiloface call).
 * Video keeps it (the bandwidth estimate that `auto` reads rides on it); audio's loss still comes
 * back in RTCP receiver reports.
 */
function withAudioPtime(sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  // Split before each m= line: [session, media sections...].
  const sections = sdp.split(/(?=^m=)/m);
  return sections
    .map((section) => {
      if (!section.startsWith('m=audio') || !/^a=rtpmap:\d+ opus\/48000/im.test(section)) return section;
      const lines = section.split(eol).filter((l) => !/^a=(max)?ptime:/.test(l) && !/^a=rtcp-fb:\d+ transport-cc/.test(l) && !l.includes('transport-wide-cc-extensions'));
      const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
      lines.push(`a=ptime:${OPUS_PTIME_MS}`, `a=maxptime:${OPUS_PTIME_MS}`);
      if (trailing !== undefined) lines.push(trailing);
      return lines.join(eol);
    })
    .join('');
}

interface RtpCapabilitiesLike {
  codecs?: { kind: string; rtcpFeedback?: { type: string }[] }[];
  headerExtensions?: { kind: string; uri: string }[];
}

/**
 * The SFU's router capabilities without transport-wide congestion control for audio: the same
 * choice as withOpusParams makes for P2P (no feedback packets for our voice), for mediasoup-client,
 * which writes the SDP from these.
 */
export function withoutAudioTransportCc<C extends RtpCapabilitiesLike>(caps: C): C {
  return {
    ...caps,
    codecs: caps.codecs?.map((c) => (c.kind === 'audio' ? { ...c, rtcpFeedback: (c.rtcpFeedback ?? []).filter((fb) => fb.type !== 'transport-cc') } : c)),
    headerExtensions: caps.headerExtensions?.filter((e) => !(e.kind === 'audio' && e.uri.includes('transport-wide-cc'))),
  };
}
