import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FULL_LADDER, LADDER_MAX_KBPS, QUICK_LADDER, rungName, type LadderRung } from './codecs/ladder.ts';

export interface BenchOptions {
  dataDir: string;
  outDir: string;
  cacheDir: string;
  quick: boolean;
  /** Codec ids to run; null = all in the registry. */
  codecs: string[] | null;
  kbps: number[];
  /** At most this many clips (one per person); null = every eligible clip. */
  maxClips: number | null;
  /** Only clips whose file name contains one of these. */
  only: string[] | null;
  /** Length of each prepared clip in seconds (from its start). */
  seconds: number;
  crop: string;
  /** Codec that BD-rates in the Markdown summary are taken against. */
  anchor: string;
  /** Jobs at once, and threads per encoder/decoder: the machine has 2 cores, shared. */
  jobs: number;
  threads: number;
  /** How many clips get side-by-side sample frames in the HTML report. */
  sampleClips: number;
  /** kiloface decoder model folder (reference.onnx, frame.onnx, model.json); null = the default. */
  modelDir: string | null;
  /** Lower sizes and frame rates the ladder codecs are also coded at; empty = full size only. */
  ladder: LadderRung[];
}

// 5..200 kbit/s, about x1.5 apart; quick mode keeps four spread over the same range.
export const FULL_KBPS = [5, 8, 12, 18, 27, 40, 60, 90, 135, 200];
export const QUICK_KBPS = [6, 15, 40, 100];
export const FULL_SECONDS = 10;
export const QUICK_SECONDS = 4;
export const QUICK_CLIPS = 3;

export const USAGE = `usage: tsx bench/cli.ts --data DIR --out DIR [options]
  --data DIR         folder with MANIFEST.tsv and clips/ (default ../shared/data)
  --out DIR          where report.json, report.md, report.html, frames.tsv, streams/ go
  --quick            ${QUICK_CLIPS} clips, ${QUICK_SECONDS} s each, ${QUICK_KBPS.length} rates (${QUICK_KBPS.join(',')} kbit/s)
  --codecs a,b       codec ids (default: all; see --list-codecs)
  --kbps 5,10,...    target rates in kbit/s (default ${FULL_KBPS.join(',')})
  --clips N          at most N clips, one per person
  --only s1,s2       only clips whose file name contains one of these
  --seconds S        seconds per clip (default ${FULL_SECONDS})
  --crop RULE        tracker (default: the codec's crop rule) | source-framing | centre
  --anchor ID        codec the summary BD-rates are against (default x264-realtime)
  --jobs N           jobs in parallel (default 2)
  --threads N        threads per ffmpeg encode/decode (default 1)
  --cache DIR        prepared-clip cache (default ~/.cache/kiloface/bench or $KILOFACE_BENCH_CACHE)
  --samples N        clips with sample frames in the HTML report (default 3)
  --model DIR        kiloface decoder model (default models/kiloface-v1 or $KILOFACE_MODEL)
  --no-ladder        code the standard codecs at 256 px 25 fps only (default: x264-realtime, vp8,
                     vp9 and aom-av1 also at ${QUICK_LADDER.map(rungName).join(', ')} with --quick,
                     else ${FULL_LADDER.map(rungName).join(', ')}; at the targets up to ${LADDER_MAX_KBPS} kbit/s)
  --list-codecs      print the codec registry and exit`;

const list = (v: string | undefined): string[] | null =>
  v === undefined ? null : v.split(',').map((s) => s.trim()).filter((s) => s !== '');

function positiveNumbers(v: string, what: string): number[] {
  const nums = v.split(',').map(Number);
  if (nums.length === 0 || nums.some((n) => !(n > 0))) throw new Error(`--${what} needs positive numbers, got "${v}"`);
  return nums;
}

function positiveInt(v: string | undefined, what: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${what} needs a positive integer, got "${v}"`);
  return n;
}

export type ParsedCommand = { kind: 'help' } | { kind: 'list-codecs' } | { kind: 'run'; options: BenchOptions };

export function parseBenchArgs(argv: readonly string[]): ParsedCommand {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      codecs: { type: 'string' },
      kbps: { type: 'string' },
      clips: { type: 'string' },
      only: { type: 'string' },
      seconds: { type: 'string' },
      crop: { type: 'string' },
      anchor: { type: 'string' },
      jobs: { type: 'string' },
      threads: { type: 'string' },
      cache: { type: 'string' },
      samples: { type: 'string' },
      model: { type: 'string' },
      'no-ladder': { type: 'boolean', default: false },
      'list-codecs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return { kind: 'help' };
  if (values['list-codecs']) return { kind: 'list-codecs' };
  if (!values.out) throw new Error('--out DIR is required');
  const quick = values.quick ?? false;
  const seconds = values.seconds !== undefined ? Number(values.seconds) : quick ? QUICK_SECONDS : FULL_SECONDS;
  if (!(seconds > 0)) throw new Error(`--seconds needs a positive number, got "${values.seconds}"`);
  return {
    kind: 'run',
    options: {
      dataDir: resolve(values.data ?? '../shared/data'),
      outDir: resolve(values.out),
      cacheDir: resolve(values.cache ?? process.env.KILOFACE_BENCH_CACHE ?? join(homedir(), '.cache', 'kiloface', 'bench')),
      quick,
      codecs: list(values.codecs),
      kbps: values.kbps !== undefined ? positiveNumbers(values.kbps, 'kbps') : quick ? QUICK_KBPS : FULL_KBPS,
      maxClips: values.clips !== undefined ? positiveInt(values.clips, 'clips', 1) : quick ? QUICK_CLIPS : null,
      only: list(values.only),
      seconds,
      crop: values.crop ?? 'tracker',
      anchor: values.anchor ?? 'x264-realtime',
      jobs: positiveInt(values.jobs, 'jobs', 2),
      threads: positiveInt(values.threads, 'threads', 1),
      sampleClips: values.samples !== undefined ? Number(values.samples) : 3,
      modelDir: values.model !== undefined ? resolve(values.model) : null,
      ladder: values['no-ladder'] ? [] : [...(quick ? QUICK_LADDER : FULL_LADDER)],
    },
  };
}
