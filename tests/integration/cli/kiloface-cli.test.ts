// The kiloface command line (issue 15): encode and decode a short synthetic talking clip through
// the real launcher (bin/kiloface.js), the real tracker and the shipped decoder; and every kind of
// bad input gets one clear line and a non-zero exit, never a stack trace or NaN.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStream } from '../../../bench/codecs/kiloface-stream.ts';
import { describeNeeds } from '../../helpers/needs.ts';
import { kilofacePathMissing, writeSyntheticFaceVideo } from '../bench/synthetic-face-clip.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const FRAMES = 50; // 2 s: long enough for geometry packets after the reference, short enough to decode in seconds

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(program: string, args: string[], timeout = 180_000): Promise<Run> {
  return new Promise((done) => {
    execFile(program, args, { cwd: ROOT, timeout, env: { ...process.env, KILOFACE_DEBUG: '' } }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

const kiloface = (...args: string[]): Promise<Run> => run(process.execPath, [join(ROOT, 'bin/kiloface.js'), ...args]);

/** A failure as the user sees it: the exit status, and a last stderr line that says why; no stack, no NaN. */
function expectClearFailure(r: Run, code: number, message: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  expect(r.code, r.stderr).toBe(code);
  expect(lines.at(-1)).toMatch(/^kiloface: /);
  expect(lines.at(-1)).toMatch(message);
  expect(r.stderr).not.toMatch(/^\s+at /m); // a stack frame
  expect(r.stdout + r.stderr).not.toMatch(/NaN|undefined/);
  expect(r.stdout).toBe('');
}

const missing = kilofacePathMissing();

// Each run starts node, tsx and onnxruntime: seconds on a busy machine, hence the long timeouts.
describeNeeds(missing)('kiloface encode / decode', { timeout: 240_000 }, () => {
  let dir = '';
  let clip = '';
  let encoded: Run;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kf-cli-'));
    clip = join(dir, 'talker.mp4');
    writeSyntheticFaceVideo(clip, { width: 320, height: 240, frames: FRAMES, cx: 160, cy: 118, size: 120 });
    encoded = await kiloface('encode', clip, join(dir, 'talker.kf'));
  }, 240_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('round trip', () => {
    it('encode writes a stream file of every frame and sums it up', async () => {
      expect(encoded.code, encoded.stderr).toBe(0);
      expect(encoded.stdout).toMatch(new RegExp(`frames +${FRAMES} \\(2\\.00 s at 25 fps\\)`));
      expect(encoded.stdout).toMatch(/payload +\d+\.\d\d kbit\/s/);
      expect(encoded.stdout).toMatch(/wire +\d+\.\d\d kbit\/s/);
      expect(encoded.stdout).toMatch(/references 1 \(1 start\)/);
      expect(encoded.stdout).not.toMatch(/NaN/);
      expect(encoded.stderr).toMatch(new RegExp(`encode \\[#+\\] ${FRAMES}/${FRAMES} frames 100%`)); // the bar's last line
      const stream = readStream(await readFile(join(dir, 'talker.kf')));
      expect(stream.frameCount).toBe(FRAMES);
      expect(stream.info.source).toMatchObject({ file: 'talker.mp4', width: 320, height: 240 });
      expect(Object.keys(stream.info.referenceBoxes)).toHaveLength(1);
    });

    it('decode rebuilds a 256x256 25 fps video of every frame, close to the input\'s face crop', async () => {
      const out = join(dir, 'decoded.mp4');
      const r = await kiloface('decode', join(dir, 'talker.kf'), out, '--compare', clip);
      expect(r.code, r.stderr).toBe(0);
      const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,r_frame_rate,nb_read_frames', '-of', 'csv=p=0', out]);
      expect(probe.stdout.toString().trim()).toBe(`256,256,25/1,${FRAMES}`);
      const quality = /PSNR-Y (\d+\.\d\d) dB, SSIM-Y (0\.\d{4}) .* mean of (\d+) frames/.exec(r.stdout);
      expect(quality, r.stdout).not.toBeNull();
      expect(Number(quality![3])).toBe(FRAMES);
      // The shipped decoder reaches ~33.8 dB / 0.95 on this clip; its first picture held for every
      // frame (no motion decoded) scores ~28 dB, a picture off the crop grid or grey far less.
      expect(Number(quality![1])).toBeGreaterThan(31);
      expect(Number(quality![2])).toBeGreaterThan(0.85);
      expect(r.stdout).toMatch(/payload +\d+\.\d\d kbit\/s/);
      expect(r.stdout + r.stderr).not.toMatch(/NaN/);
    });
  });

  it('a guide mode (--kbps 17: the 16 kbit/s mode) sends guide pictures inside the bundles, and decodes them', async () => {
    const kf = join(dir, 'guided.kf');
    const encodedGuided = await kiloface('encode', clip, kf, '--kbps', '17');
    expect(encodedGuided.code, encodedGuided.stderr).toBe(0);
    expect(encodedGuided.stdout).toMatch(/mode +16 kbit\/s: .*guide av1 48 px 10\/s 6 kbit\/s/);
    // 10 guide pictures a second over 2 s, less the first slots before the reference.
    const pictures = /guide +(\d+) pictures \(1 keyframes\)/.exec(encodedGuided.stdout);
    expect(pictures, encodedGuided.stdout).not.toBeNull();
    expect(Number(pictures![1])).toBeGreaterThanOrEqual(18);
    const stream = readStream(await readFile(kf));
    expect(stream.packets.filter((p) => p.bytes[0]! === 0x16).length).toBeGreaterThan(5); // GeometryFramesGuided, version 1
    const r = await kiloface('decode', kf, join(dir, 'guided.mp4'), '--compare', clip);
    expect(r.code, r.stderr).toBe(0);
    const quality = /PSNR-Y (\d+\.\d\d) dB/.exec(r.stdout);
    // Whatever the fusion weights, a decoded guide must not break the picture (geometry-only ~33.8 dB here).
    expect(Number(quality![1])).toBeGreaterThan(25);
  }, 240_000);

  describe('bad input', () => {
    it('no such file', async () => {
      expectClearFailure(await kiloface('encode', join(dir, 'absent.mp4'), join(dir, 'x.kf')), 1, /absent\.mp4: no such file/);
      expectClearFailure(await kiloface('decode', join(dir, 'absent.kf'), join(dir, 'x.mp4')), 1, /absent\.kf: no such file/);
    });

    it('not a video: a text file named .mp4', async () => {
      const text = join(dir, 'notes.mp4');
      await writeFile(text, 'this is not a video\n');
      expectClearFailure(await kiloface('encode', text, join(dir, 'x.kf')), 1, /notes\.mp4: not a video ffmpeg can read/);
    });

    it('a video with no face in it', async () => {
      const empty = join(dir, 'pattern.mp4');
      const made = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '1', '-pix_fmt', 'yuv420p', empty]);
      expect(made.status).toBe(0);
      expectClearFailure(await kiloface('encode', empty, join(dir, 'x.kf')), 1, /pattern\.mp4: no face found/);
      expect(existsSync(join(dir, 'x.kf'))).toBe(false);
    });

    it('a truncated .kf, cut inside a packet or at a packet boundary', async () => {
      const whole = await readFile(join(dir, 'talker.kf'));
      const { packets } = readStream(whole);
      const last = packets.at(-1)!.bytes.length + 9;
      for (const [name, cut] of [['mid', whole.length - 3], ['boundary', whole.length - last]] as const) {
        const file = join(dir, `cut-${name}.kf`);
        await writeFile(file, whole.subarray(0, cut));
        expectClearFailure(await kiloface('decode', file, join(dir, 'x.mp4')), 1, new RegExp(`cut-${name}\\.kf: truncated kiloface stream file`));
      }
    });

    it('a foreign file given to decode', async () => {
      expectClearFailure(await kiloface('decode', clip, join(dir, 'x.mp4')), 1, /talker\.mp4: not a kiloface stream file/);
    });

    it('an output that cannot be written', async () => {
      expectClearFailure(await kiloface('encode', clip, join(dir, 'no-such-dir', 'x.kf')), 1, /cannot write .*x\.kf: the directory .*no-such-dir does not exist/);
      await mkdir(join(dir, 'a-folder.mp4'));
      expectClearFailure(await kiloface('decode', join(dir, 'talker.kf'), join(dir, 'a-folder.mp4')), 1, /cannot write .*a-folder\.mp4: it is a directory/);
    });

    it('an unknown option, a bad mode, a missing argument: exit 2', async () => {
      expectClearFailure(await kiloface('encode', clip, join(dir, 'x.kf'), '--fast'), 2, /encode: unknown option --fast \(see kiloface --help\)/);
      expectClearFailure(await kiloface('encode', clip, join(dir, 'x.kf'), '--mode', '7'), 2, /--mode must be one of 6, 10, 12, 16, 20, 32/);
      expectClearFailure(await kiloface('encode', clip, join(dir, 'x.kf'), '--kbps', 'fast'), 2, /--kbps must be a number above 0/);
      expectClearFailure(await kiloface('encode', clip, join(dir, 'x.kf'), '--kbps', '16', '--mode', '16'), 2, /give --mode or --kbps, not both/);
      expectClearFailure(await kiloface('decode', join(dir, 'talker.kf')), 2, /decode needs IN .* and OUT/);
      expectClearFailure(await kiloface('transcode'), 2, /unknown command "transcode"/);
    });

    it('npm run kiloface takes paths relative to where it was typed, not the package folder', async () => {
      const r = await new Promise<Run>((done) => {
        execFile('npm', ['--prefix', ROOT, 'run', '-s', 'kiloface', '--', 'decode', 'here.kf', 'out.mp4'], { cwd: dir }, (error, stdout, stderr) => {
          done({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
        });
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`kiloface: ${join(dir, 'here.kf')}: no such file`);
    });

    it('--help and --version', async () => {
      const help = await kiloface('--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('kiloface encode IN.mp4 OUT.kf');
      const version = await kiloface('--version');
      expect(version.stdout.trim()).toMatch(/^kiloface \d+\.\d+\.\d+$/);
    });
  });
});

// Issue 15: bench:encoder called a file it could not read "no face found, skipped" and went on.
describeNeeds(missing)('bench:encoder on a clip that is not a video', () => {
  it('names the file and ffmpeg\'s reason, exits 1, no NaN', { timeout: 120_000 }, async () => {
    const data = await mkdtemp(join(tmpdir(), 'kf-encoder-bench-'));
    try {
      await mkdir(join(data, 'clips'));
      await writeFile(join(data, 'clips', 'notes.mp4'), 'this is not a video\n');
      await writeFile(join(data, 'MANIFEST.tsv'), 'file\tkind\twidth\theight\tfps\tframes\tperson\nnotes.mp4\ttalking-head\t256\t256\t25\t50\tP99\n');
      const r = await run(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'bench/encoder-bench.ts'), '--data', data]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/bench:encoder failed: ffmpeg could not read .*notes\.mp4: .*Invalid data/);
      expect(r.stdout + r.stderr).not.toMatch(/NaN|no face found/);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});
