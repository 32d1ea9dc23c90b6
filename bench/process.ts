import { spawn } from 'node:child_process';

export interface ProcessResult {
  stdout: Buffer;
  stderr: string;
  wallMs: number;
}

export interface RunOptions {
  /** Run under `nice -n 10`: the machine is shared, the bench should yield to people. */
  nice?: boolean;
  stdin?: Uint8Array;
}

/** Run a program to completion; reject with the tail of stderr when it fails. */
export function runProcess(program: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  const [cmd, argv] = options.nice ? ['nice', ['-n', '10', program, ...args]] : [program, [...args]];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, argv, { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const stderr = Buffer.concat(err).toString('utf8');
      if (code !== 0) {
        reject(new Error(`${program} exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
        return;
      }
      resolve({ stdout: Buffer.concat(out), stderr, wallMs });
    });
    if (options.stdin && child.stdin) {
      child.stdin.on('error', () => undefined); // the program may stop reading early
      child.stdin.end(options.stdin);
    }
  });
}

/** Shell-like rendering of a command, for reports (so a reader can rerun it). */
export function renderCommand(program: string, args: readonly string[]): string {
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [program, ...args].map(quote).join(' ');
}
