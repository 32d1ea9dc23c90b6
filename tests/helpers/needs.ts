// Tests that need what a machine may lack (data, ffmpeg, a Python with packages). Locally they
// skip and say why; when CI is set they fail with the same reason, since a check that did not
// run must not read as passed.
import { describe, it } from 'vitest';

export const IN_CI = Boolean(process.env.CI);

const failing = (missing: string) => (name: string) =>
  it(name, () => {
    throw new Error(`could not run: ${missing} (CI is set, so a test that cannot run fails)`);
  });

/** `it` when nothing is missing; else a skip (locally) or a failure (CI) that names what is missing. */
export function itNeeds(missing: string | null | undefined): typeof it.skip {
  if (!missing) return it;
  // The stand-in takes the test's name and ignores its options and body: it only fails.
  return IN_CI ? (failing(missing) as unknown as typeof it.skip) : it.skip;
}

/** The same for a whole block: under CI one failing test stands for it. */
export function describeNeeds(missing: string | null | undefined): typeof describe.skip {
  if (!missing) return describe;
  return IN_CI ? (((name: string) => describe(name, () => void failing(missing)(name))) as unknown as typeof describe.skip) : describe.skip;
}
