import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectClips } from '../../../bench/clip-selection.ts';
import { CentreSquareCropProvider, SourceFramingCropProvider } from '../../../bench/crop.ts';
import { parseManifest, type ClipEntry } from '../../../bench/manifest.ts';
import { clipIds } from '../../../bench/prepared-clip.ts';

const HEADER = 'file\trepo\tkind\twidth\theight\tfps\tframes\tduration_s\tsha256\tperson\trepo_license';
const row = (file: string, kind: string, w: number, h: number, fps: number, frames: number, sha: string, person: string): string =>
  [file, 'o/r', kind, w, h, fps, frames, frames / fps, sha, person, 'MIT'].join('\t');

const MANIFEST = [
  HEADER,
  row('a__face_one.mp4', 'talking-head', 256, 256, 25, 250, 'cc', 'P01 woman, dark hair'),
  row('b__face_two.mp4', 'talking-head', 512, 512, 30, 300, 'aa', 'P02 man'),
  row('c__same_person.mp4', 'talking-head', 256, 256, 25, 250, 'bb', 'P02 man'),
  row('d__wide.mp4', 'talking-head', 1280, 720, 25, 250, 'dd', 'P03 man'),
  row('e__slow.mp4', 'talking-head', 256, 256, 10, 250, 'ee', 'P04 woman'),
  row('f__short.mp4', 'talking-head', 256, 256, 25, 30, 'ff', 'P05 man'),
  row('g__foreman.264', 'standard-sequence', 176, 144, 30, 300, '00', 'S01 foreman'),
].join('\n');

describe('manifest', () => {
  it('parses rows by column name', () => {
    const entries = parseManifest(MANIFEST);
    expect(entries).toHaveLength(7);
    expect(entries[0]).toMatchObject({ file: 'a__face_one.mp4', kind: 'talking-head', width: 256, fps: 25, frames: 250, personId: 'P01', licence: 'MIT' });
  });

  it('names missing columns and bad numbers', () => {
    expect(() => parseManifest('file\tkind\n')).toThrow(/width, height, fps, frames/);
    expect(() => parseManifest(`${HEADER}\n${row('x.mp4', 'talking-head', 0, 1, 25, 1, '', '')}`)).toThrow(/row 2: bad width/);
  });
});

const tempDirs: string[] = [];
afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

async function dataDirWith(entries: readonly ClipEntry[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kf-manifest-'));
  tempDirs.push(dir);
  await mkdir(join(dir, 'clips'));
  for (const e of entries) await writeFile(join(dir, 'clips', e.file), '');
  return dir;
}

describe('clip selection', () => {
  const entries = parseManifest(MANIFEST);

  it('keeps talking heads and says why it skips the others', async () => {
    const dir = await dataDirWith(entries);
    const { selected, skipped } = await selectClips(dir, entries, new SourceFramingCropProvider());
    expect(selected.map((s) => s.entry.file).sort()).toEqual(['a__face_one.mp4', 'b__face_two.mp4', 'c__same_person.mp4']);
    const reasons = Object.fromEntries(skipped.map((s) => [s.file, s.reason]));
    expect(reasons['d__wide.mp4']).toMatch(/not square/);
    expect(reasons['e__slow.mp4']).toMatch(/10 fps/);
    expect(reasons['f__short.mp4']).toMatch(/1.20 s long/);
    expect(reasons['g__foreman.264']).toBeUndefined(); // not a talking head: not considered at all
  });

  it('a capped selection takes one clip per person in hash order', async () => {
    const dir = await dataDirWith(entries);
    const { selected } = await selectClips(dir, entries, new SourceFramingCropProvider(), { maxClips: 2 });
    // Hash order: aa (P02), bb (P02 again: skipped), cc (P01).
    expect(selected.map((s) => s.entry.file)).toEqual(['b__face_two.mp4', 'a__face_one.mp4']);
  });

  it('reports a missing file instead of failing later', async () => {
    const dir = await dataDirWith([]);
    const { selected, skipped } = await selectClips(dir, entries.slice(0, 1), new SourceFramingCropProvider());
    expect(selected).toHaveLength(0);
    expect(skipped[0]?.reason).toMatch(/missing/);
  });
});

describe('crop rules', () => {
  const entries = parseManifest(MANIFEST);
  it('source framing takes square frames whole', async () => {
    expect(await new SourceFramingCropProvider().cropFor(entries[1]!)).toEqual({ ok: true, box: { x: 0, y: 0, size: 512 } });
  });
  it('centre rule: 0.8 x short side, raised by 10% of its side, even numbers', async () => {
    // 1280x720: side 576, x = 352, y = (720 - 576) / 2 - 57.6 = 14.4 -> 14
    expect(await new CentreSquareCropProvider().cropFor(entries[3]!)).toEqual({ ok: true, box: { x: 352, y: 14, size: 576 } });
  });
});

describe('clip ids', () => {
  it('use the path part of the name and disambiguate only collisions', () => {
    const ids = clipIds(parseManifest([HEADER, row('x__assets_driving.mp4', 'talking-head', 1, 1, 25, 1, '', ''), row('y__assets_driving.mp4', 'talking-head', 1, 1, 25, 1, '', ''), row('z__face.mp4', 'talking-head', 1, 1, 25, 1, '', '')].join('\n')));
    expect(ids.get('z__face.mp4')).toBe('face');
    expect(ids.get('x__assets_driving.mp4')).toMatch(/^assets_driving-[0-9a-f]{6}$/);
    expect(ids.get('x__assets_driving.mp4')).not.toBe(ids.get('y__assets_driving.mp4'));
  });
});
