import { runProcess } from './process.ts';

export const FFMPEG = process.env.KILOFACE_FFMPEG ?? 'ffmpeg';
export const FFPROBE = process.env.KILOFACE_FFPROBE ?? 'ffprobe';

/** Flags every bench ffmpeg call starts with: quiet, never prompt, never read stdin by accident. */
export const FFMPEG_QUIET = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'] as const;

/** "ffmpeg version X" from `ffmpeg -version`, or null when ffmpeg cannot be run. */
export async function ffmpegVersion(): Promise<string | null> {
  try {
    const { stdout } = await runProcess(FFMPEG, ['-hide_banner', '-version']);
    const first = stdout.toString('utf8').split('\n')[0]?.trim() ?? '';
    return /^ffmpeg version \S+/.exec(first)?.[0] ?? (first || null);
  } catch {
    return null;
  }
}

/** Names of the video encoders this ffmpeg was built with. */
export async function ffmpegEncoders(): Promise<Set<string>> {
  const { stdout } = await runProcess(FFMPEG, ['-hide_banner', '-encoders']);
  const names = new Set<string>();
  for (const line of stdout.toString('utf8').split('\n')) {
    const m = /^\s*V\S*\s+(\S+)/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

/**
 * Sizes of the coded packets (one per coded frame, including hidden frames), from the
 * container's index. Container headers (IVF file/frame headers) are excluded: a call sends
 * packets, not files.
 */
export async function packetSizes(streamPath: string): Promise<number[]> {
  const { stdout } = await runProcess(FFPROBE, [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=size', '-of', 'csv=p=0', streamPath,
  ]);
  return stdout
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim().replace(/,$/, ''))
    .filter((l) => l !== '')
    .map(Number);
}
