import { FfmpegCodec, type FfmpegCodecSpec } from './ffmpeg-codec.ts';
import type { LadderRung } from './ladder.ts';

// The standard codecs of DESIGN.md section 5, as Debian's ffmpeg 5.1 drives them.
// Common choices, and why:
// - one keyframe at the start and none after (-g 10000): a call sends keyframes on loss or
//   request, not on a timer, and periodic ones would only add the same cost to everyone;
// - two-pass VBR where the encoder supports it through ffmpeg (it spends bits where they help
//   most, the best a codec can do offline); one-pass CBR-like VBV for the realtime x264 setting,
//   which is how a call encodes; SVT-AV1 is one-pass because ffmpeg 5.1 cannot run its 2-pass;
// - libvpx qmin/qmax opened to 0..63 so the rate control may go as low as the format allows.
const NO_PERIODIC_KEYFRAMES = ['-g', '10000'];
const rate = (kbps: number): string => `${Math.round(kbps * 1000)}`;
const ffmpegTwoPass = (pass: 1 | 2, prefix: string): string[] => ['-pass', String(pass), '-passlogfile', prefix];

const X264_VERSION = /x264 - core (\d+ r\d+ [0-9a-f]+)/;
const VPX_VERSION = /\[libvpx(?:-vp9)? @ [^\]]+\] (v[\d.]+\S*)/;

export const STANDARD_CODEC_SPECS: readonly FfmpegCodecSpec[] = [
  {
    id: 'x264-realtime',
    label: 'H.264 x264 realtime',
    encoder: 'libx264',
    settings: 'libx264 -preset veryfast -tune zerolatency, no B-frames, 1-pass VBV (maxrate = target, 1 s buffer)',
    muxer: 'h264',
    extension: '264',
    encoderArgs: (kbps, threads) => [
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-bf', '0', ...NO_PERIODIC_KEYFRAMES,
      '-b:v', rate(kbps), '-maxrate', rate(kbps), '-bufsize', rate(kbps), '-threads', String(threads),
    ],
    // x264 writes a ~700-byte text SEI with its settings: not video, and no sender transmits it.
    bitstreamFilter: 'filter_units=remove_types=6',
    decoder: 'FFmpeg h264',
    decoderArgs: ['-c:v', 'h264'],
    versionPattern: X264_VERSION,
    ladder: true,
  },
  {
    id: 'x264-veryslow',
    label: 'H.264 x264 veryslow',
    encoder: 'libx264',
    settings: 'libx264 -preset veryslow (B-frames as the preset sets), 2-pass VBR',
    muxer: 'h264',
    extension: '264',
    encoderArgs: (kbps, threads) => [
      '-c:v', 'libx264', '-preset', 'veryslow', ...NO_PERIODIC_KEYFRAMES, '-b:v', rate(kbps), '-threads', String(threads),
    ],
    passArgs: ffmpegTwoPass,
    bitstreamFilter: 'filter_units=remove_types=6',
    decoder: 'FFmpeg h264',
    decoderArgs: ['-c:v', 'h264'],
    versionPattern: X264_VERSION,
  },
  {
    id: 'x265',
    label: 'HEVC x265',
    encoder: 'libx265',
    settings: 'libx265 -preset slow, 2-pass VBR, info SEI off',
    muxer: 'hevc',
    extension: '265',
    encoderArgs: (kbps) => ['-c:v', 'libx265', '-preset', 'slow', '-b:v', rate(kbps)],
    // ffmpeg 5.1's libx265 wrapper ignores -pass; x265 takes it through its own parameters.
    passArgs: (pass, prefix) => [
      '-x265-params',
      `pass=${pass}:stats=${prefix}.log:keyint=10000:info=0:pools=1:frame-threads=1:log-level=error`,
    ],
    decoder: 'FFmpeg hevc',
    decoderArgs: ['-c:v', 'hevc'],
    versionPattern: /HEVC encoder version (\S+)/,
  },
  {
    id: 'vp8',
    label: 'VP8 libvpx',
    encoder: 'libvpx',
    settings: 'libvpx -deadline good -cpu-used 0, alt-ref frames, q 0..63, 2-pass VBR',
    muxer: 'ivf',
    extension: 'ivf',
    encoderArgs: (kbps, threads) => [
      '-c:v', 'libvpx', '-deadline', 'good', '-cpu-used', '0', '-auto-alt-ref', '1', '-lag-in-frames', '16',
      '-qmin', '0', '-qmax', '63', ...NO_PERIODIC_KEYFRAMES, '-b:v', rate(kbps), '-threads', String(threads),
    ],
    passArgs: ffmpegTwoPass,
    decoder: 'FFmpeg vp8',
    decoderArgs: ['-c:v', 'vp8'],
    versionPattern: VPX_VERSION,
    ladder: true,
  },
  {
    id: 'vp9',
    label: 'VP9 libvpx',
    encoder: 'libvpx-vp9',
    settings: 'libvpx-vp9 -deadline good -cpu-used 2, alt-ref frames, q 0..63, 2-pass VBR',
    muxer: 'ivf',
    extension: 'ivf',
    encoderArgs: (kbps, threads) => [
      '-c:v', 'libvpx-vp9', '-deadline', 'good', '-cpu-used', '2', '-auto-alt-ref', '1', '-lag-in-frames', '25',
      '-qmin', '0', '-qmax', '63', ...NO_PERIODIC_KEYFRAMES, '-b:v', rate(kbps), '-threads', String(threads),
    ],
    passArgs: ffmpegTwoPass,
    decoder: 'FFmpeg vp9',
    decoderArgs: ['-c:v', 'vp9'],
    versionPattern: VPX_VERSION,
    ladder: true,
  },
  {
    id: 'aom-av1',
    label: 'AV1 libaom',
    encoder: 'libaom-av1',
    settings: 'libaom-av1 -usage good -cpu-used 4, 2-pass VBR',
    muxer: 'ivf',
    extension: 'ivf',
    encoderArgs: (kbps, threads) => [
      '-c:v', 'libaom-av1', '-usage', 'good', '-cpu-used', '4', ...NO_PERIODIC_KEYFRAMES, '-b:v', rate(kbps),
      '-threads', String(threads),
    ],
    passArgs: ffmpegTwoPass,
    decoder: 'libdav1d',
    decoderArgs: ['-c:v', 'libdav1d'],
    versionPattern: /\[libaom-av1 @ [^\]]+\] (v[\d.]+\S*)/,
    ladder: true,
  },
  {
    id: 'svt-av1',
    label: 'AV1 SVT-AV1',
    encoder: 'libsvtav1',
    settings: 'libsvtav1 -preset 6, 1-pass VBR (ffmpeg 5.1 cannot drive its 2-pass)',
    muxer: 'ivf',
    extension: 'ivf',
    encoderArgs: (kbps, threads) => [
      '-c:v', 'libsvtav1', '-preset', '6', ...NO_PERIODIC_KEYFRAMES, '-b:v', rate(kbps), '-svtav1-params', `lp=${threads}`,
    ],
    decoder: 'libdav1d',
    decoderArgs: ['-c:v', 'libdav1d'],
    versionPattern: /SVT-AV1 Encoder Lib (v[\d.]+)/,
  },
];

/** The standard codecs; those marked `ladder` are also coded at `ladder`'s rungs (empty: none). */
export const standardCodecs = (ladder: readonly LadderRung[] = []): FfmpegCodec[] =>
  STANDARD_CODEC_SPECS.map((s) => new FfmpegCodec(s, s.ladder ? ladder : []));
