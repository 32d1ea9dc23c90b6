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
