import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CROP_SIZE, DECODER_DIR, SHIPPED_MODELS } from '../../../codec/shipped.ts';

// codec/shipped.ts is the one list of the shipped models. The browser cannot read it at build
// time (Vite wants literal import paths), so web/neural/models.ts writes them out: check they agree.
describe('shipped models', () => {
  it('every file of the list is in the repository', () => {
    for (const file of Object.values(SHIPPED_MODELS)) expect(existsSync(file), file).toBe(true);
  });

  it("the browser's model imports are the same files, one per entry", () => {
    const source = readFileSync('web/neural/models.ts', 'utf8');
    const imports = new Map([...source.matchAll(/^import (\w+) from '([^']+)\?url';$/gm)].map((m) => [m[1]!, path.relative('.', path.resolve('web/neural', m[2]!))]));
    const urls = new Map([...source.matchAll(/^ {2}(\w+): (\w+),$/gm)].map((m) => [m[1]!, m[2]!]));
    for (const [key, file] of Object.entries(SHIPPED_MODELS)) expect(imports.get(urls.get(key) ?? ''), key).toBe(file);
    expect(imports.size).toBe(Object.keys(SHIPPED_MODELS).length);
  });

  it("the crop size is the decoder's picture size", () => {
    const model = JSON.parse(readFileSync(path.join(DECODER_DIR, 'model.json'), 'utf8')) as { image: { size: number[] } };
    expect(model.image.size).toEqual([CROP_SIZE, CROP_SIZE]);
  });
});
