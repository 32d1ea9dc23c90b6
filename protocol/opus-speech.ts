// How a call's voice goes out: Opus for speech, tuned for thin links. One place for the numbers,
// shared by the browser's SDP munging (P2P), the mediasoup-client producer and the SFU's router.
//
// Packet rate dominates a low-bitrate stream: at 20 ms Opus sends 50 packets/s and the headers
// (IP/UDP/RTP/SRTP) alone cost ~20 kbit/s; at 60 ms it is 16.7 packets/s. Measured in Chromium
// 156 (../shared/ENVIRONMENT.md): 53.9 kbit/s on the wire by default, 13.9 with these settings.

/** Milliseconds of audio per Opus packet (ptime and maxptime). 120 would save ~2 kbit/s more but doubles the latency a lost packet costs. */
export const OPUS_PTIME_MS = 60;
/** Opus's average bitrate for speech (bit/s, payload only): wideband SILK stays clear at 8 kbit/s, and the whole kiloface call must fit 24. */
export const OPUS_MAX_AVERAGE_BITRATE = 8_000;
/**
 * The audio sender's maxBitrate (RTCRtpEncodingParameters, bit/s): Chromium lets it override the
 * fmtp's maxaveragebitrate (measured: a 32000 cap gave 30 kbit/s of payload while talking), so it is
 * the same number.
 */
export const AUDIO_SENDER_MAX_BITRATE = OPUS_MAX_AVERAGE_BITRATE;

/** Opus fmtp parameters: low average rate, DTX (silence costs ~nothing), in-band FEC (a lost packet is rebuilt from the next), mono. */
export const OPUS_FMTP: Readonly<Record<string, string>> = {
  maxaveragebitrate: String(OPUS_MAX_AVERAGE_BITRATE),
  usedtx: '1',
  useinbandfec: '1',
  stereo: '0',
  ptime: String(OPUS_PTIME_MS),
  maxptime: String(OPUS_PTIME_MS),
};
