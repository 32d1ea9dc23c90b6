import { readFile } from 'node:fs/promises';

/** One row of a MANIFEST.tsv in the shared data format (only the columns the bench uses). */
export interface ClipEntry {
  file: string;
  kind: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  /** Person id such as "P24" (first word of the person column), or the file name when absent. */
  personId: string;
  person: string;
  licence: string;
  sha256: string;
}

const REQUIRED = ['file', 'kind', 'width', 'height', 'fps', 'frames'] as const;

export function parseManifest(text: string): ClipEntry[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error('MANIFEST.tsv is empty');
  const header = lines[0]!.split('\t').map((h) => h.trim());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new Error(`MANIFEST.tsv lacks column(s): ${missing.join(', ')}`);
  const col = (name: string): number => header.indexOf(name);
  return lines.slice(1).map((line, i) => {
    const cells = line.split('\t');
    const get = (name: string): string => (col(name) >= 0 ? (cells[col(name)] ?? '').trim() : '');
    const num = (name: string): number => {
      const v = Number(get(name));
      if (!Number.isFinite(v) || v <= 0) throw new Error(`MANIFEST.tsv row ${i + 2}: bad ${name} "${get(name)}"`);
      return v;
    };
    const person = get('person');
    return {
      file: get('file'),
      kind: get('kind'),
      width: num('width'),
      height: num('height'),
      fps: num('fps'),
      frames: num('frames'),
      personId: /^[A-Za-z]*\d+\b/.exec(person)?.[0] ?? (person || get('file')),
      person,
      licence: get('repo_license') || get('license') || get('licence'),
      sha256: get('sha256'),
    };
  });
}

export async function readManifest(path: string): Promise<ClipEntry[]> {
  return parseManifest(await readFile(path, 'utf8'));
}

export const TALKING_HEAD = 'talking-head';
