import { cpus } from 'node:os';
import * as mediasoup from 'mediasoup';
import type { Worker } from 'mediasoup/types';
import { EventEmitter } from 'node:events';
import { resolveMediasoupWorkerBin } from './worker-binary.ts';

export interface WorkerPoolOptions {
  /** Workers to run; one per core by default. */
  size: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  log: (line: string) => void;
}

export interface PooledWorker {
  /** Stable slot number: a restarted worker takes the dead one's slot. */
  slot: number;
  worker: Worker;
  /** Routers the rooms have placed on this worker. */
  load: number;
}

type Events = {
  /** A worker died; `replacement` runs in its slot once restarted (undefined if the restart failed). */
  died: [slot: number, error: Error];
  restarted: [slot: number];
};

const RESTART_DELAY_MS = 500;

/** mediasoup workers, one per core, restarted when one dies. */
export class WorkerPool extends EventEmitter<Events> {
  private readonly slots: (PooledWorker | undefined)[] = [];
  private closed = false;

  private constructor(private readonly options: WorkerPoolOptions) {
    super();
  }

  static async start(options: Partial<WorkerPoolOptions> & { log: (line: string) => void }): Promise<WorkerPool> {
    const pool = new WorkerPool({ size: Math.max(1, cpus().length), rtcMinPort: 40000, rtcMaxPort: 49999, ...options });
    await Promise.all(Array.from({ length: pool.options.size }, (_, slot) => pool.startSlot(slot)));
    return pool;
  }

  get workers(): readonly PooledWorker[] {
    return this.slots.filter((s): s is PooledWorker => s !== undefined);
  }

  /** The least loaded live worker, optionally avoiding some slots (pipeToRouter needs two workers). */
  pick(avoid: ReadonlySet<number> = new Set()): PooledWorker {
    const live = this.workers;
    if (live.length === 0) throw new Error('no mediasoup worker is running');
    const candidates = live.filter((w) => !avoid.has(w.slot));
    return (candidates.length > 0 ? candidates : live).reduce((a, b) => (b.load < a.load ? b : a));
  }

  /** Kills a worker whose channel is unusable; the `died` handling restarts it and rebuilds its rooms. */
  recycle(slot: number): void {
    const pid = this.slots[slot]?.worker.pid;
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots) slot?.worker.close();
  }

  private async startSlot(slot: number): Promise<void> {
    const worker = await mediasoup.createWorker({
      workerBin: resolveMediasoupWorkerBin(),
      // KILOFACE_SFU_DEBUG=1 turns on the worker's debug log (every tag), for diagnosing it.
      logLevel: process.env.KILOFACE_SFU_DEBUG ? 'debug' : 'warn',
      ...(process.env.KILOFACE_SFU_DEBUG ? { logTags: ['info', 'ice', 'dtls', 'rtp', 'srtp', 'rtcp', 'sctp', 'message'] as const } : {}),
      rtcMinPort: this.options.rtcMinPort,
      rtcMaxPort: this.options.rtcMaxPort,
    });
    const pooled: PooledWorker = { slot, worker, load: 0 };
    this.slots[slot] = pooled;
    worker.on('died', (error) => {
      this.slots[slot] = undefined;
      this.options.log(`sfu: worker ${slot} (pid ${worker.pid}) died: ${error.message}`);
      this.emit('died', slot, error);
      if (this.closed) return;
      setTimeout(() => {
        this.startSlot(slot).then(
          () => {
            this.options.log(`sfu: worker ${slot} restarted`);
            this.emit('restarted', slot);
          },
          (restartError: Error) => this.options.log(`sfu: worker ${slot} could not restart: ${restartError.message}`),
        );
      }, RESTART_DELAY_MS);
    });
  }
}
