// One line per finished job with an ETA: readable in a terminal and in a CI log alike.

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ProgressLog {
  private done = 0;
  private readonly started = performance.now();

  constructor(
    private readonly phase: string,
    private readonly total: number,
    private readonly write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {}

  /** Record one finished unit of work and print its line. */
  tick(what: string): void {
    this.done++;
    const elapsed = performance.now() - this.started;
    const eta = (elapsed / this.done) * (this.total - this.done);
    const width = String(this.total).length;
    const pct = Math.floor((100 * this.done) / this.total);
    this.write(
      `${this.phase} [${String(this.done).padStart(width)}/${this.total}] ${String(pct).padStart(3)}% ${what} | ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}`,
    );
  }
}

/**
 * A progress bar for one long job (frames done / total, rate, ETA) on a stream, stderr by default:
 * redrawn in place at most 10 times a second on a terminal; elsewhere (a pipe, a CI log) a plain
 * line at each tenth of the way, so logs stay short and readable.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = -Infinity;
  private lastTenth = 0;
  private done = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: { isTTY?: boolean; write(text: string): unknown } = process.stderr,
    private readonly unit = 'frames',
  ) {}

  update(done: number): void {
    this.done = done;
    const now = performance.now();
    if (this.out.isTTY) {
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      this.out.write(`\r${this.line(now)}\x1b[K`);
      return;
    }
    const tenth = this.total > 0 ? Math.floor((10 * done) / this.total) : 0;
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.out.write(`${this.line(now)}\n`);
    }
  }

  /** Ends the bar (its last state stays visible on a terminal). */
  finish(): void {
    const now = performance.now();
    if (this.out.isTTY) this.out.write(`\r${this.line(now)}\x1b[K\n`);
    else if (this.lastTenth < 10) this.out.write(`${this.line(now)}\n`);
  }

  private line(now: number): string {
    const elapsed = now - this.started;
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const rate = elapsed > 0 ? (1000 * this.done) / elapsed : 0;
    const eta = this.done > 0 ? (elapsed / this.done) * (this.total - this.done) : NaN;
    return (
      `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${this.unit} ` +
      `${String(Math.floor(100 * fraction)).padStart(3)}% ${rate.toFixed(1)} fps, ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}`
    );
  }
}
