import { describe, expect, it } from 'vitest';
import { findSendCodec, parseCapKbps, parseVideoCodec, preferCodec, withOpusParams, withoutAudioTransportCc } from '../../../web/call/media-settings.ts';
import { parseRoomLink, roomPath } from '../../../web/route.ts';

const codecs = [
  { mimeType: 'video/VP8' },
  { mimeType: 'video/rtx' },
  { mimeType: 'video/H264', sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f' },
  { mimeType: 'video/H264', sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' },
  { mimeType: 'video/VP9' },
  { mimeType: 'video/AV1' },
];

describe('codec preferences', () => {
  it('puts the chosen codec first and keeps the rest as fallbacks', () => {
    expect(preferCodec(codecs, 'VP9').map((c) => c.mimeType)).toEqual(['video/VP9', 'video/VP8', 'video/rtx', 'video/H264', 'video/H264', 'video/AV1']);
    expect(preferCodec(codecs, 'AV1')).toHaveLength(codecs.length);
  });

  it('prefers H.264 packetization-mode 1, constrained baseline', () => {
    expect(findSendCodec(codecs, 'H264')?.sdpFmtpLine).toContain('packetization-mode=1;profile-level-id=42e01f');
    expect(findSendCodec([{ mimeType: 'video/VP8' }], 'AV1')).toBeUndefined();
  });

  it('parses codec and cap from links', () => {
    expect(parseVideoCodec('vp9')).toBe('VP9');
    expect(parseVideoCodec('h.264')).toBe('H264');
    expect(parseVideoCodec('theora')).toBeUndefined();
    expect(parseCapKbps('50')).toBe(50);
    expect(parseCapKbps('-3')).toBeUndefined();
    expect(parseCapKbps('abc')).toBeUndefined();
  });
});

describe('withOpusParams', () => {
  const sdp = [
    'v=0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'a=rtpmap:96 VP8/90000',
    '',
  ].join('\r\n');

  it('asks for lean speech: 8 kbit/s, DTX, FEC, mono, 60 ms packets; keeps the existing parameters', () => {
    const out = withOpusParams(sdp);
    expect(out).toContain('a=fmtp:111 minptime=10;useinbandfec=1;maxaveragebitrate=8000;usedtx=1;stereo=0;ptime=60;maxptime=60\r\n');
    // a=ptime/maxptime in the audio section only, before the video section starts.
    const [audio, video] = out.split('m=video');
    expect(audio).toMatch(/a=ptime:60\r\na=maxptime:60\r\n$/);
    expect(video).not.toContain('ptime');
    expect(out.split('\r\n')).toHaveLength(sdp.split('\r\n').length + 2);
  });

  it('drops transport-wide congestion control feedback for audio only', () => {
    const cc = 'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
    const withCc = sdp
      .replace('a=rtpmap:111 opus/48000/2', `${cc}\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc`)
      .replace('a=rtpmap:96 VP8/90000', `${cc}\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 transport-cc`);
    const [audio, video] = withOpusParams(withCc).split('m=video');
    expect(audio).not.toContain('transport-cc');
    expect(audio).not.toContain('transport-wide-cc');
    expect(video).toContain(cc);
    expect(video).toContain('a=rtcp-fb:96 transport-cc');
  });

  it('replaces a ptime the browser wrote, and is idempotent', () => {
    const withPtime = sdp.replace('a=rtpmap:63 red/48000/2', 'a=rtpmap:63 red/48000/2\r\na=ptime:20');
    const once = withOpusParams(withPtime);
    expect(once.match(/a=ptime:/g)).toHaveLength(1);
    expect(once).toContain('a=ptime:60');
    expect(withOpusParams(once)).toBe(once);
  });

  it('adds an fmtp line where Opus has none, and leaves SDP without Opus alone', () => {
    const bare = sdp.replace('a=fmtp:111 minptime=10;useinbandfec=1\r\n', '');
    expect(withOpusParams(bare)).toContain('a=rtpmap:111 opus/48000/2\r\na=fmtp:111 maxaveragebitrate=8000;usedtx=1;useinbandfec=1;stereo=0;ptime=60;maxptime=60');
    const video = 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n';
    expect(withOpusParams(video)).toBe(video);
  });
});

describe('withoutAudioTransportCc (SFU)', () => {
  it('drops transport-cc from audio codecs and header extensions, keeps it for video', () => {
    const cc = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
    const out = withoutAudioTransportCc({
      codecs: [
        { kind: 'audio', mimeType: 'audio/opus', rtcpFeedback: [{ type: 'nack' }, { type: 'transport-cc' }] },
        { kind: 'video', mimeType: 'video/VP8', rtcpFeedback: [{ type: 'transport-cc' }] },
      ],
      headerExtensions: [
        { kind: 'audio', uri: cc },
        { kind: 'audio', uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' },
        { kind: 'video', uri: cc },
      ],
    });
    expect(out.codecs.map((c) => c.rtcpFeedback.map((f) => f.type))).toEqual([['nack'], ['transport-cc']]);
    expect(out.headerExtensions.map((e) => `${e.kind} ${e.uri}`)).toEqual(['audio urn:ietf:params:rtp-hdrext:ssrc-audio-level', `video ${cc}`]);
  });
});

describe('room links', () => {
  it('reads room, name, secret and settings', () => {
    expect(parseRoomLink({ pathname: '/r/team-7', search: '?name=Ann&secret=pw&codec=av1&cap=30' })).toEqual({
      room: 'team-7',
      name: 'Ann',
      secret: 'pw',
      settings: { videoCodec: 'AV1', videoCapKbps: 30 },
    });
  });

  it('ignores invalid rooms and falls back to default settings', () => {
    const link = parseRoomLink({ pathname: '/r/bad%20room', search: '?cap=9999999' });
    expect(link.room).toBeUndefined();
    expect(link.settings).toEqual({ videoCodec: 'VP8', videoCapKbps: 100 });
    expect(roomPath('a_b')).toBe('/r/a_b');
  });
});
