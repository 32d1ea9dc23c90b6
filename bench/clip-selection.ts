import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { CropBox, CropProvider } from './crop.ts';
import { TALKING_HEAD, type ClipEntry } from './manifest.ts';

// Rules that keep the comparison honest: resampling a 10 fps clip to 25 fps repeats frames
// (free for every codec), and in a clip shorter than 2 s the first keyframe dominates the rate.
export const MIN_SOURCE_FPS = 20;
export const MIN_DURATION_S = 2;

export interface SelectedClip {
  entry: ClipEntry;
  crop: CropBox;
}

export interface SkippedClip {
  file: string;
  reason: string;
}

export interface ClipSelection {
  selected: SelectedClip[];
  skipped: SkippedClip[];
}

export interface SelectionOptions {
  /** Keep at most this many clips, one per person, in a fixed pseudo-random order. */
  maxClips?: number;
  /** Only clips whose file name contains one of these substrings. */
  only?: readonly string[];
}

/**
 * Order clips by their content hash (or name): a fixed draw that does not favour any source
 * project by its name, and is the same on every machine.
 */
function drawOrder(a: ClipEntry, b: ClipEntry): number {
  const ka = a.sha256 || a.file;
  const kb = b.sha256 || b.file;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export async function selectClips(
  dataDir: string,
  entries: readonly ClipEntry[],
  crops: CropProvider,
  options: SelectionOptions = {},
): Promise<ClipSelection> {
  const selected: SelectedClip[] = [];
  const skipped: SkippedClip[] = [];
  const people = new Set<string>();
  const talkingHeads = entries.filter((e) => e.kind === TALKING_HEAD).sort(drawOrder);
  for (const entry of talkingHeads) {
    const skip = (reason: string): void => void skipped.push({ file: entry.file, reason });
    if (options.only && !options.only.some((s) => entry.file.includes(s))) continue;
    if (entry.fps < MIN_SOURCE_FPS) {
      skip(`source is ${entry.fps} fps (< ${MIN_SOURCE_FPS}): resampling to 25 fps would repeat frames`);
      continue;
    }
    if (entry.frames / entry.fps < MIN_DURATION_S) {
      skip(`${(entry.frames / entry.fps).toFixed(2)} s long (< ${MIN_DURATION_S} s): the keyframe would dominate the rate`);
      continue;
    }
    try {
      await access(join(dataDir, 'clips', entry.file));
    } catch {
      skip('file missing from clips/');
      continue;
    }
    // Draw limits before the crop: a crop rule may cost a tracker run, spent only on clips used.
    if (options.maxClips !== undefined) {
      if (selected.length >= options.maxClips) continue;
      if (people.has(entry.personId)) continue; // a quick run should not spend its clips on one face
    }
    const crop = await crops.cropFor(entry);
    if (!crop.ok) {
      skip(crop.reason);
      continue;
    }
    people.add(entry.personId);
    selected.push({ entry, crop: crop.box });
  }
  return { selected, skipped };
}
