// The benchmark command: `npx tsx bench/cli.ts --data DIR --out DIR [--quick] ...`
// (wired as `npm run bench`). Progress goes to stderr; the result paths to stdout.
import { allCodecs } from './codecs/registry.ts';
import { USAGE, parseBenchArgs } from './options.ts';
import { runBench } from './run-bench.ts';

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseBenchArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'list-codecs') {
    for (const c of allCodecs()) process.stdout.write(`${c.id.padEnd(14)} ${c.label}: ${c.settings}\n`);
    return 0;
  }
  const { files } = await runBench(parsed.options, ['bench', ...argv].join(' '));
  process.stdout.write(`${files.html}\n${files.markdown}\n${files.json}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
