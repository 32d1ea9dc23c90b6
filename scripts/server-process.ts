// The real server as a child process, for load and fuzz scripts: they must see it crash, and read
// its memory and CPU (and its mediasoup workers') from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ (getconf CLK_TCK)

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Set once the process has ended, with its exit code or signal. */
  exited: string | undefined;
  /** The last lines it wrote (for the report when it dies). */
  output: string[];
  stop(): Promise<void>;
}

/**
 * Starts `server/main.ts` on a free port with the given flags and waits for its "listening" line.
 * `node --import tsx` rather than `npx tsx`: the pid is then the server itself, for /proc.
 */
export async function startServerProcess(flags: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', '0', ...flags], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const server: ServerProcess = {
    child,
    url: '',
    exited: undefined,
    output: [],
    stop: async () => {
      if (server.exited !== undefined) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await done;
    },
  };
  const remember = (chunk: Buffer): void => {
    server.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    server.output.splice(0, Math.max(0, server.output.length - 50));
  };
  child.stdout!.on('data', remember);
  child.stderr!.on('data', remember);
  child.once('exit', (code, signal) => (server.exited = signal ?? String(code)));
  server.url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${server.output.join('\n')}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /listening on (\S+)/.exec(chunk.toString('utf8'));
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', () => reject(new Error(`server exited at start:\n${server.output.join('\n')}`)));
  });
  return server;
}

/** A process's user + system CPU time, in clock ticks. */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Resident memory of a process, MB (0 once it has ended). */
export function rssMB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** The mediasoup worker processes the server started. */
export function workerPids(serverPid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.split(') ')[1]!.split(' ')[1]);
      if (ppid === serverPid && stat.includes('(mediasoup-work')) pids.push(Number(entry)); // comm is cut at 15 characters
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

/** CPU ticks of the server and its workers together. */
export function serverCpuTicks(serverPid: number): number {
  return [serverPid, ...workerPids(serverPid)].reduce((sum, pid) => {
    try {
      return sum + cpuTicks(pid);
    } catch {
      return sum;
    }
  }, 0);
}
