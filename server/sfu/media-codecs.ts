import type { RouterRtpCodecCapability } from 'mediasoup/types';
import { OPUS_MAX_AVERAGE_BITRATE, OPUS_PTIME_MS } from '../../protocol/opus-speech.ts';

/**
 * Every codec the standard-codec path offers (VP8, VP9, H.264, AV1) and Opus for audio. The Opus
 * parameters reach each sending browser in the answer mediasoup-client writes for its send
 * transport (lean speech: protocol/opus-speech.ts); the producer's codecOptions say the same.
 */
export const ROUTER_MEDIA_CODECS: RouterRtpCodecCapability[] = [
  {
    kind: 'audio',
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: { useinbandfec: 1, usedtx: 1, maxaveragebitrate: OPUS_MAX_AVERAGE_BITRATE, ptime: OPUS_PTIME_MS, maxptime: OPUS_PTIME_MS },
  },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  { kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 0 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
  { kind: 'video', mimeType: 'video/AV1', clockRate: 90000 },
];
