import type { RemotePeer, PeerState } from '../call/remote-peer.ts';
import { h } from '../util/dom.ts';
import { StatsPanel } from './stats-panel.ts';

/** One person on screen: video, name, state badges and (for others) the stats panel. */
export class Tile {
  readonly element: HTMLElement;
  readonly video: HTMLVideoElement;
  private readonly badges: HTMLElement;
  private readonly nameLabel: HTMLElement;
  private peer: RemotePeer | undefined;
  private readonly stats: StatsPanel | undefined;
  private unsubscribe: (() => void)[] = [];

  constructor(options: { id: string; name: string; self: boolean }) {
    this.video = h('video', { autoplay: true, playsinline: true });
    this.video.muted = options.self; // never play our own microphone back
    this.badges = h('span', { class: 'badges', 'data-role': 'badges' });
    this.nameLabel = h('strong', {}, options.self ? `${options.name} (you)` : options.name);
    this.element = h(
      'section',
      { class: 'tile', 'data-peer': options.self ? 'self' : options.id, 'data-connection': options.self ? 'local' : 'connecting' },
      this.video,
      h('div', { class: 'caption' }, this.nameLabel, this.badges),
    );
    if (!options.self) {
      this.stats = new StatsPanel(() => this.peer?.pc);
      this.element.append(this.stats.element);
      this.showState({ muted: false, cameraOff: false }, 'connecting');
    }
  }

  setStream(stream: MediaStream): void {
    if (this.video.srcObject === stream) return;
    this.video.srcObject = stream;
    this.video.play().catch(() => {
      // Autoplay with sound needs a user gesture: play muted, and offer a button to unmute.
      this.video.muted = true;
      void this.video.play();
      const unmute = h('button', { type: 'button' }, 'enable sound');
      unmute.addEventListener('click', () => {
        this.video.muted = false;
        unmute.remove();
      });
      this.badges.after(unmute);
    });
  }

  /** Follows a (new) connection to this person. */
  attach(peer: RemotePeer): void {
    for (const off of this.unsubscribe) off();
    this.peer = peer;
    this.element.dataset.connection = 'connecting';
    this.showState(peer.remoteState, 'connecting');
    this.unsubscribe = [
      peer.on('stream', (stream) => this.setStream(stream)),
      peer.on('connect', () => this.showState(peer.remoteState, 'connected')),
      peer.on('state', (state) => this.showState(state, peer.connected ? 'connected' : 'connecting')),
      peer.on('close', () => this.showState(peer.remoteState, 'reconnecting')),
    ];
    if (peer.remoteStream) this.setStream(peer.remoteStream);
  }

  showState(state: PeerState, connection: 'connecting' | 'connected' | 'reconnecting' | 'local'): void {
    this.element.dataset.connection = connection;
    const parts = [connection === 'connected' || connection === 'local' ? '' : `${connection}…`, state.muted ? 'muted' : '', state.cameraOff ? 'camera off' : ''];
    this.badges.textContent = parts.filter(Boolean).join(' · ');
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    this.stats?.close();
    this.video.srcObject = null;
    this.element.remove();
  }
}
