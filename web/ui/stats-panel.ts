import { computePeerFigures, STAT_FIELDS, type PeerFigures, type StatsSnapshot } from '../stats/peer-stats.ts';
import { h } from '../util/dom.ts';

export const STATS_INTERVAL_MS = 1000;

/**
 * The per-peer figures, refreshed each second from getStats(). Every value sits in an element with
 * a `data-stat` name inside the tile's `data-peer` element, so tests and tools read what people see.
 */
export class StatsPanel {
  readonly element: HTMLDetailsElement;
  private readonly cells = new Map<string, HTMLElement>();
  private previous: { source: object; snapshot: StatsSnapshot } | undefined;
  private readonly timer: ReturnType<typeof setInterval>;

  /**
   * `source` gives the current connection's stats provider (it changes on reconnects);
   * `onFigures` hears each second's figures (the tile's captions show some of them).
   */
  constructor(
    private readonly source: () => { getStats(): Promise<StatsSnapshot | undefined> } | undefined,
    private readonly onFigures: (figures: PeerFigures) => void = () => undefined,
  ) {
    const rows = new Map<string, { receive?: HTMLElement; send?: HTMLElement; label: string }>();
    for (const field of STAT_FIELDS) {
      const key = field.stat.replace('-send', '');
      const row = rows.get(key) ?? { label: field.label };
      const cell = h('td', { 'data-stat': field.stat }, '–');
      this.cells.set(field.stat, cell);
      if (field.stat.includes('-send')) row.send = cell;
      else row.receive = cell;
      rows.set(key, row);
    }
    const body = h('tbody');
    for (const row of rows.values()) body.append(h('tr', {}, h('td', {}, row.label), row.receive ?? h('td'), row.send ?? h('td')));
    this.element = h(
      'details',
      { class: 'stats', open: true },
      h('summary', {}, 'stats'),
      // Scrolls on its own (styles.css: .stats-scroll) so that a long panel never pushes the
      // tile's name and the next tile out of reach, at laptop and phone sizes alike.
      h(
        'div',
        { class: 'stats-scroll', tabindex: '0', role: 'region', 'aria-label': 'connection stats' },
        h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'from them'), h('th', {}, 'to them'))), body),
      ),
    );
    this.timer = setInterval(() => void this.refresh(), STATS_INTERVAL_MS);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    const source = this.source();
    let snapshot: StatsSnapshot | undefined;
    try {
      snapshot = await source?.getStats();
    } catch {
      snapshot = undefined; // the connection closed while we asked
    }
    if (!source || !snapshot) {
      this.previous = undefined;
      return;
    }
    // A replaced connection (after a reconnect or a mode switch) restarts the deltas.
    if (this.previous?.source === source) {
      const figures = computePeerFigures(this.previous.snapshot, snapshot);
      for (const field of STAT_FIELDS) {
        const cell = this.cells.get(field.stat);
        if (cell) cell.textContent = field.read(figures) || '–';
      }
      this.onFigures(figures);
    }
    this.previous = { source, snapshot };
  }
}
