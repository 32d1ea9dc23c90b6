// The guide layer of decoder v2 (issue 17 item 1), measured: the 256x256 crop scaled down to a
// small square picture, coded by a real-time standard codec at a few kbit/s, decoded and scaled
// back to 256 px bicubically. Prints, per codec x size x frame rate x target: the payload rate,
// PSNR-Y / SSIM-Y of each guide picture against the source frame it was taken from (mean over
// pictures and clips), and the encoder's CPU time per picture.
//
//   npm run bench:guide -- [--data DIR] [--clips 3] [--seconds 4] [--sizes 32,48,64,96]
//                          [--kbps 2,4,8,16,24] [--fps 10,25] [--codecs vp8,vp9,av1] [--cache DIR]
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CROP_SIZE } from '../codec/shipped.ts';
import { selectClips } from './clip-selection.ts';
import { FfmpegCodec, type FfmpegCodecSpec } from './codecs/ffmpeg-codec.ts';
import { encodeFilter, picturesTaken, sourceFrameOf, type LadderRung } from './codecs/ladder.ts';
import { cropProviderByName } from './crop.ts';
import { FFMPEG, FFMPEG_QUIET, packetSizes } from './ffmpeg-tools.ts';
import { readManifest } from './manifest.ts';
import { planeFromBytes } from './metrics/plane.ts';
import { psnr } from './metrics/psnr.ts';
import { ssim } from './metrics/ssim.ts';
import { BENCH_FPS, clipIds, loadY4m, prepareClip, type PreparedClip } from './prepared-clip.ts';
import { renderCommand, runProcess } from './process.ts';

const realtime = (id: string, label: string, encoder: string, args: string[], decoderArgs: string[]): FfmpegCodecSpec => ({
  id, label, encoder, muxer: 'ivf', extension: 'ivf', decoder: decoderArgs[1]!, decoderArgs, versionPattern: /(?!)/,
  settings: `${encoder} ${args.join(' ')}, 1 pass, one keyframe`,
  encoderArgs: (kbps, threads) => ['-c:v', encoder, ...args, '-g', '10000', '-b:v', `${Math.round(kbps * 1000)}`, '-threads', String(threads)],
});

// Real-time settings a WebCodecs encoder would run with: 1 pass, fastest useful speed.
export const GUIDE_CODECS: Record<string, FfmpegCodecSpec> = {
  vp8: realtime('vp8', 'VP8', 'libvpx', ['-deadline', 'realtime', '-cpu-used', '8', '-qmin', '0', '-qmax', '63'], ['-c:v', 'vp8']),
  vp9: realtime('vp9', 'VP9', 'libvpx-vp9', ['-deadline', 'realtime', '-cpu-used', '8', '-qmin', '0', '-qmax', '63'], ['-c:v', 'vp9']),
  av1: realtime('av1', 'AV1 libaom', 'libaom-av1', ['-usage', 'realtime', '-cpu-used', '8'], ['-c:v', 'libdav1d']),
};

const numbers = (v: string): number[] => v.split(',').map(Number);

interface Cell {
  kbps: number[];
  psnr: number[];
  ssim: number[];
  cpuMsPerPicture: number[];
}

/** The guide input of one clip at one rung (scaled, frame rate reduced), made first so that the timed encode is the encoder alone. */
async function guideInput(clip: PreparedClip, rung: LadderRung, dir: string): Promise<string> {
  const small = join(dir, `${clip.id}-${rung.size}-${rung.fps}.y4m`);
  await runProcess(FFMPEG, [...FFMPEG_QUIET, '-i', clip.y4mPath, '-vf', encodeFilter(rung)!, '-f', 'yuv4mpegpipe', small], { nice: true });
  return small;
}

async function measure(codec: FfmpegCodec, spec: FfmpegCodecSpec, clip: PreparedClip, source: Uint8Array[], small: string, rung: LadderRung, kbps: number, dir: string) {
  const stream = join(dir, `${spec.id}-${rung.size}-${rung.fps}-${kbps}.ivf`);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'info', '-y', '-benchmark', '-i', small, ...spec.encoderArgs(kbps, 1), '-f', 'ivf', stream];
  const { stderr } = await runProcess(FFMPEG, args, { nice: true });
  const m = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(stderr);
  if (!m) throw new Error('ffmpeg -benchmark printed no timing');
  const pictures = picturesTaken(clip.frameCount, rung.fps);
  const bytes = (await packetSizes(stream)).reduce((a, b) => a + b, 0);
  const decoded = (await codec.decode(stream, 1, rung, 'passthrough')).frames;
  if (decoded.length < pictures) throw new Error(`${spec.id}: ${decoded.length} of ${pictures} pictures decoded`);
  const luma = (f: Uint8Array) => planeFromBytes(CROP_SIZE, CROP_SIZE, f.subarray(0, CROP_SIZE * CROP_SIZE));
  // Each picture against the frame it was taken from: what decoder v2 gets, before any hold.
  const pairs = decoded.slice(0, pictures).map((f, j) => [luma(source[sourceFrameOf(j, rung.fps)]!), luma(f)] as const);
  return {
    kbps: (bytes * 8) / 1000 / (clip.frameCount / BENCH_FPS),
    psnr: pairs.reduce((a, [s, d]) => a + psnr(s, d), 0) / pairs.length,
    ssim: pairs.reduce((a, [s, d]) => a + ssim(s, d), 0) / pairs.length,
    cpuMsPerPicture: ((Number(m[1]) + Number(m[2])) * 1000) / pictures,
    command: renderCommand('ffmpeg', args),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: '../shared/data' },
      clips: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '4' },
      sizes: { type: 'string', default: '32,48,64,96' },
      kbps: { type: 'string', default: '2,4,8,16,24' },
      fps: { type: 'string', default: '10,25' },
      codecs: { type: 'string', default: 'vp8,vp9,av1' },
      cache: { type: 'string', default: process.env.KILOFACE_BENCH_CACHE ?? join(homedir(), '.cache', 'kiloface', 'bench') },
    },
  });
  const dataDir = resolve(values.data);
  const cacheDir = resolve(values.cache);
  const specs = values.codecs.split(',').map((id) => {
    const s = GUIDE_CODECS[id];
    if (!s) throw new Error(`unknown guide codec ${id} (known: ${Object.keys(GUIDE_CODECS).join(', ')})`);
    return s;
  });
  // The bench's own clip draw and crop, so these are the quick bench's clips (and its cache).
  const manifest = await readManifest(join(dataDir, 'MANIFEST.tsv'));
  const crops = cropProviderByName('tracker', { dataDir, cacheDir });
  const selection = await selectClips(dataDir, manifest, crops, { maxClips: Number(values.clips) });
  const ids = clipIds(manifest);
  const frames = Math.round(Number(values.seconds) * BENCH_FPS);
  const clips = [];
  for (const { entry, crop } of selection.selected) clips.push(await prepareClip(dataDir, ids.get(entry.file)!, entry, crop, frames, cacheDir));
  const cells = new Map<string, Cell>();
  let example = '';
  const dir = await mkdtemp(join(tmpdir(), 'kf-guide-'));
  try {
    for (const clip of clips) {
      const source = (await loadY4m(clip.y4mPath)).frames;
      const inputs = new Map<string, Promise<string>>();
      for (const spec of specs) {
        const codec = new FfmpegCodec(spec);
        for (const fps of numbers(values.fps)) {
          for (const size of numbers(values.sizes)) {
            const key = `${size}x${fps}`;
            if (!inputs.has(key)) inputs.set(key, guideInput(clip, { size, fps }, dir));
            const small = await inputs.get(key)!;
            for (const kbps of numbers(values.kbps)) {
              const r = await measure(codec, spec, clip, source, small, { size, fps }, kbps, dir);
              example ||= r.command;
              const key = `${spec.id}\t${size}\t${fps}\t${kbps}`;
              const c = cells.get(key) ?? { kbps: [], psnr: [], ssim: [], cpuMsPerPicture: [] };
              c.kbps.push(r.kbps); c.psnr.push(r.psnr); c.ssim.push(r.ssim); c.cpuMsPerPicture.push(r.cpuMsPerPicture);
              cells.set(key, c);
            }
          }
          process.stderr.write(`guide: ${clip.id} ${spec.id} ${fps} fps done\n`);
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`Guide pictures: ${clips.length} clip(s) (${clips.map((c) => c.id).join(', ')}), first ${values.seconds} s, tracker crop; mean over clips.`);
  console.log(`Example encode: ${example}\n`);
  console.log('| codec | size px | fps | target kbit/s | payload kbit/s | PSNR-Y dB | SSIM-Y | encode CPU ms/picture |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [key, c] of cells) {
    const [id, size, fps, kbps] = key.split('\t');
    console.log(`| ${GUIDE_CODECS[id!]!.label} | ${size} | ${fps} | ${kbps} | ${avg(c.kbps).toFixed(2)} | ${avg(c.psnr).toFixed(2)} | ${avg(c.ssim).toFixed(4)} | ${avg(c.cpuMsPerPicture).toFixed(2)} |`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`guide-codec failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
