import { CROP_SIZE } from '../../codec/shipped.ts';
import type { ReceiverState, ReceiverStatus, SenderStatus } from '../neural/protocol.ts';
import type { RemoteFrame } from '../neural/neural-stream.ts';
import { h } from '../util/dom.ts';
import { describeNeural, type NeuralFacts } from './neural-notice.ts';

/** Cells of a small stats table, each carrying its `data-stat` name (as the main stats panel does). */
function statTable(rows: [stat: string, label: string][]): { element: HTMLTableElement; set(stat: string, text: string): void } {
  const cells = new Map<string, HTMLElement>();
  const body = h('tbody');
  for (const [stat, label] of rows) {
    const cell = h('td', { 'data-stat': stat }, '–');
    cells.set(stat, cell);
    body.append(h('tr', {}, h('td', {}, label), cell));
  }
  return { element: h('table', { class: 'neural-stats' }, body), set: (stat, text) => void (cells.get(stat)!.textContent = text) };
}

/** kbit/s of the payload and wire byte counters between two status reports (once a second). */
class ByteRates {
  private previous: { atMs: number; payloadBytes: number; wireBytes: number } | undefined;

  /** Undefined on the first report: a rate needs two. */
  next(counters: { payloadBytes: number; wireBytes: number }): { payload: string; wire: string } | undefined {
    const now = performance.now();
    const prev = this.previous;
    this.previous = { atMs: now, payloadBytes: counters.payloadBytes, wireBytes: counters.wireBytes };
    const ms = prev ? now - prev.atMs : 0;
    if (!prev || ms <= 0) return undefined;
    const kbps = (bytes: number): string => ((bytes * 8) / ms).toFixed(1);
    return { payload: kbps(counters.payloadBytes - prev.payloadBytes), wire: kbps(counters.wireBytes - prev.wireBytes) };
  }
}

/**
 * The remote person as kiloface rebuilds them: a canvas beside the standard-codec video, with the
 * neural stream's figures. Until the face shows, and whenever it cannot, a notice says why
 * (neural-notice.ts); the last picture stays, dimmed.
 */
export class NeuralView {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly notice: HTMLElement;
  private readonly stats = statTable([
    ['neural-payload-kbps', 'kiloface kbit/s'],
    ['neural-wire-kbps', 'kiloface wire kbit/s (est.)'],
    ['neural-references', 'references received'],
    ['neural-decode-ms', 'decode ms/frame'],
    ['neural-fps', 'rebuilt fps'],
    ['neural-backend', 'decoder runs on'],
  ]);
  private readonly rates = new ByteRates();
  private framesDrawn = 0;
  private readonly facts: NeuralFacts;

  /** `name`: whose face this is, for the canvas's accessible name and the notices. */
  constructor(name: string) {
    this.facts = { name, receiver: undefined, cameraOff: false, pictures: undefined };
    this.canvas = h('canvas', { width: String(CROP_SIZE), height: String(CROP_SIZE), 'data-role': 'neural-canvas', role: 'img', 'aria-label': `${name}, rebuilt by kiloface` });
    // Not a live region: download progress changes several times a second.
    this.notice = h('div', { class: 'neural-notice', 'data-role': 'neural-notice' });
    this.element = h(
      'figure',
      { class: 'neural' },
      h('div', { class: 'neural-picture' }, this.canvas, this.notice),
      h('figcaption', {}, 'kiloface (rebuilt from face geometry)'),
      h('details', { class: 'stats', open: true }, h('summary', {}, 'kiloface stats'), this.stats.element),
    );
    this.render();
  }

  showFrame(frame: RemoteFrame): void {
    this.canvas.getContext('2d')!.drawImage(frame.bitmap, 0, 0, this.canvas.width, this.canvas.height);
    frame.bitmap.close();
    this.framesDrawn++;
    // For tools and tests: which sender frame time the canvas shows now.
    this.canvas.dataset.senderTime = String(frame.senderTimeMs);
    this.canvas.dataset.frames = String(this.framesDrawn);
    this.canvas.dataset.shownAtEpochMs = String(Math.round(performance.timeOrigin + performance.now()));
    // A picture comes with the state it was drawn in (the state message may still be on its way).
    if (frame.stale || this.facts.receiver?.kind !== 'face') this.showState(frame.stale ? { kind: 'stalled' } : { kind: 'face' });
  }

  /** What their receiver does now (receiver-worker.ts). */
  showState(state: ReceiverState): void {
    this.facts.receiver = state;
    this.render();
  }

  /** Their camera is off (their peer state). */
  setCameraOff(off: boolean): void {
    if (this.facts.cameraOff === off) return;
    this.facts.cameraOff = off;
    this.render();
  }

  private render(): void {
    const { shown, text } = describeNeural(this.facts);
    this.element.dataset.state = shown;
    if (this.notice.textContent !== text) this.notice.textContent = text;
  }

  showStatus(status: ReceiverStatus): void {
    this.facts.pictures = status.pictures;
    this.render();
    const rates = this.rates.next(status.stats);
    if (rates) {
      this.stats.set('neural-payload-kbps', rates.payload);
      this.stats.set('neural-wire-kbps', rates.wire);
    }
    this.stats.set('neural-references', String(status.stats.references));
    this.stats.set('neural-decode-ms', status.decodeMs > 0 ? status.decodeMs.toFixed(0) : '–');
    this.stats.set('neural-fps', status.decodedFps.toFixed(1));
    this.stats.set('neural-backend', status.backend);
  }
}

/** Our own neural stream's figures, on our own tile. */
export class NeuralSendStats {
  private readonly stats = statTable([
    ['neural-send-payload-kbps', 'kiloface sent kbit/s'],
    ['neural-send-wire-kbps', 'kiloface sent wire kbit/s (est.)'],
    ['neural-send-references', 'references sent'],
    ['neural-track-fps', 'tracked fps'],
    ['neural-track-ms', 'tracker ms/frame'],
    ['neural-track-pace', 'tracker pace'],
    ['neural-quality-db', 'self-check PSNR dB'],
  ]);
  readonly element = h('details', { class: 'stats', open: true }, h('summary', {}, 'kiloface (sending)'), this.stats.element);
  private readonly rates = new ByteRates();

  show(status: SenderStatus): void {
    const rates = this.rates.next(status.stats);
    if (rates) {
      this.stats.set('neural-send-payload-kbps', rates.payload);
      this.stats.set('neural-send-wire-kbps', rates.wire);
    }
    this.stats.set('neural-send-references', String(status.stats.references));
    this.stats.set('neural-track-fps', status.trackedFps.toFixed(1));
    this.stats.set('neural-track-ms', status.trackMs > 0 ? status.trackMs.toFixed(0) : '–');
    // Every other frame while this device is short of CPU for the faces it rebuilds (tracking-pace.ts).
    this.stats.set('neural-track-pace', status.trackEvery === 1 ? 'every frame' : 'every other frame (device busy)');
    this.stats.set('neural-quality-db', status.stats.lastQualityDb === undefined ? '–' : status.stats.lastQualityDb.toFixed(1));
  }
}
