// `npm run fuzz`: seeded, bounded fuzzing of every surface a client reaches (issue 13): HTTP, the
// signalling socket and every SFU method against a real server process, and codec packets into
// the real neural receiver. Prints inputs per surface, crashes (must be 0), the server's and its
// mediasoup worker's memory and the receiver's heap before and after; exits 1 on any crash.
//
//   npm run fuzz -- [--inputs 2000] [--seed 1] [--surfaces http,signalling,sfu,codec-receiver] [--json]
import { parseArgs } from 'node:util';
import { rssMB, startServerProcess, workerPids, type ServerProcess } from '../server-process.ts';
import type { SurfaceReport } from './receiver-surface.ts';
import { fuzzHttp, fuzzSfu, fuzzSignalling } from './server-surfaces.ts';

const SURFACES = ['http', 'signalling', 'sfu', 'codec-receiver'] as const;
type Surface = (typeof SURFACES)[number];

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
    surfaces: { type: 'string', default: SURFACES.join(',') },
    json: { type: 'boolean', default: false },
  },
});
const inputs = Number(values.inputs);
const seed = Number(values.seed);
const surfaces = values.surfaces.split(',') as Surface[];
for (const s of surfaces) if (!SURFACES.includes(s)) throw new Error(`unknown surface ${s}; choose from ${SURFACES.join(', ')}`);
if (!Number.isInteger(inputs) || inputs < 1) throw new Error('--inputs must be a positive integer');

interface Row extends SurfaceReport {
  seconds: number;
  serverRssMB: [number, number];
  workerRssMB: [number, number];
}

async function alive(server: ServerProcess): Promise<boolean> {
  if (server.exited !== undefined) return false;
  try {
    const response = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) });
    return response.ok;
  } catch {
    return false;
  }
}

const memory = (server: ServerProcess): { server: number; worker: number } => ({
  server: rssMB(server.child.pid!),
  worker: workerPids(server.child.pid!).reduce((sum, pid) => sum + rssMB(pid), 0),
});

async function main(): Promise<void> {
  const rows: Row[] = [];
  const needsServer = surfaces.some((s) => s !== 'codec-receiver');
  // One mediasoup worker: every SFU room shares it, so a poisoned channel would show at once.
  const server = needsServer ? await startServerProcess(['--quiet', '--sfu-workers', '1', '--dist', '/nonexistent-dist']) : undefined;
  try {
    for (const surface of surfaces) {
      const started = performance.now();
      const before = server ? memory(server) : { server: 0, worker: 0 };
      if (!values.json) process.stderr.write(`fuzz: ${surface}, ${inputs} inputs, seed ${seed}…\n`);
      let report: SurfaceReport;
      if (surface === 'codec-receiver') {
        const { fuzzReceiver } = await import('./receiver-surface.ts');
        report = await fuzzReceiver({ seed, inputs });
      } else {
        const run = { http: fuzzHttp, signalling: fuzzSignalling, sfu: fuzzSfu }[surface];
        report = await run(server!.url, { seed, inputs });
        await new Promise((resolve) => setTimeout(resolve, 1000)); // let closes and timers settle
        if (!(await alive(server!))) {
          report.crashes += 1;
          report.notes.push(`the server died (exit ${server!.exited ?? 'unknown'}); its last lines:\n${server!.output.slice(-10).join('\n')}`);
        }
      }
      const after = server && surface !== 'codec-receiver' ? memory(server) : undefined;
      const pair = (a: number, b: number | undefined): [number, number] => (b === undefined ? [0, 0] : [a, b]);
      rows.push({
        ...report,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        serverRssMB: pair(before.server, after?.server),
        workerRssMB: pair(before.worker, after?.worker),
      });
      if (server?.exited !== undefined) break;
    }
  } finally {
    await server?.stop();
  }
  if (values.json) console.log(JSON.stringify({ seed, inputsPerSurface: inputs, surfaces: rows }, null, 2));
  else {
    const mb = ([a, b]: [number, number]): string => (a === 0 && b === 0 ? '-' : `${a.toFixed(0)} -> ${b.toFixed(0)}`);
    console.log('surface          inputs  crashes  seconds  server RSS MB  worker RSS MB  receiver heap MB');
    for (const r of rows) {
      const heap = r.surface === 'codec-receiver' ? `${r.heapBeforeMB} -> ${r.heapAfterMB}` : '-';
      console.log(`${r.surface.padEnd(15)} ${String(r.inputs).padStart(7)}  ${String(r.crashes).padStart(7)}  ${r.seconds.toFixed(1).padStart(7)}  ${mb(r.serverRssMB).padStart(13)}  ${mb(r.workerRssMB).padStart(13)}  ${heap.padStart(16)}`);
    }
    for (const r of rows) for (const note of r.notes) console.log(`  ${r.surface}: ${note}`);
  }
  process.exitCode = rows.some((r) => r.crashes > 0) ? 1 : 0;
}

main().catch((error: Error) => {
  console.error(`fuzz failed: ${error.stack ?? error.message}`);
  process.exit(2);
});
