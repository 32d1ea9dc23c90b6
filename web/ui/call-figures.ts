import type { VideoSwitch } from '../call/video-mode-controller.ts';
import type { VideoModeState } from '../call/video-mode.ts';
import type { WireRates } from '../stats/call-wire.ts';
import { h } from '../util/dom.ts';

const LOG_KEPT = 20;

/**
 * The call's headline figures at the top of our own tile (visible without scrolling, on a phone
 * too): what we send and why, and the whole call on the wire each way (every RTP, RTCP, DTLS and
 * SCTP byte plus UDP/IPv4 headers). Below them, the log of video mode switches.
 */
export class CallFigures {
  readonly element: HTMLElement;
  private readonly mode = h('span', { 'data-stat': 'video-mode' }, '–');
  private readonly send = h('span', { 'data-stat': 'call-send-wire-kbps' }, '–');
  private readonly recv = h('span', { 'data-stat': 'call-recv-wire-kbps' }, '–');
  private readonly log = h('ol', { 'data-role': 'video-mode-log' });
  private readonly logBox = h('details', { class: 'mode-log', hidden: true }, h('summary', {}, 'video switches'), this.log);

  constructor() {
    this.element = h(
      'div',
      { class: 'call-figures', 'data-role': 'call-figures' },
      h('span', { class: 'figure' }, 'sending ', this.mode),
      h('span', { class: 'figure', title: 'the whole call on the wire, sent' }, '↑ ', this.send, ' kbit/s'),
      h('span', { class: 'figure', title: 'the whole call on the wire, received' }, '↓ ', this.recv, ' kbit/s'),
      this.logBox,
    );
  }

  showState(state: VideoModeState): void {
    const what = state.active === 'none' ? 'no video' : state.active;
    this.mode.textContent = state.mode === 'auto' ? `auto → ${what}` : what;
    this.mode.dataset.active = state.active;
    this.mode.title = state.reason;
  }

  showWire(wire: WireRates): void {
    this.send.textContent = wire.sendKbps.toFixed(1);
    this.recv.textContent = wire.recvKbps.toFixed(1);
  }

  addSwitch(change: VideoSwitch): void {
    const time = new Date(change.atEpochMs).toLocaleTimeString();
    this.log.prepend(h('li', { 'data-to': change.to }, `${time} ${change.from} → ${change.to}: ${change.reason}`));
    while (this.log.children.length > LOG_KEPT) this.log.lastElementChild?.remove();
    this.logBox.hidden = false;
  }
}
