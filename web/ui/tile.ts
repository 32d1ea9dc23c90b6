import { DEFAULT_PEER_STATE, type PeerState, type RemoteParticipant } from '../call/participant.ts';
import { describeVideoState } from '../call/video-mode.ts';
import type { DirectionFigures } from '../stats/peer-stats.ts';
import { h } from '../util/dom.ts';
import { NeuralView } from './neural-view.ts';
import { StatsPanel } from './stats-panel.ts';

/** What the standard video's caption says: its codec and rate as received, or that none comes. */
function standardCaption(receive: Pick<DirectionFigures, 'videoCodec' | 'videoKbps' | 'videoFps' | 'measured'>): string {
  if (!receive.measured || (receive.videoKbps === 0 && !receive.videoCodec)) return 'standard video: none received';
  const codec = receive.videoCodec || 'codec not known yet';
  return `standard video: ${codec}, ${receive.videoKbps.toFixed(0)} kbit/s, ${receive.videoFps.toFixed(0)} fps`;
}

/** The video element's accessible name: whose picture it is. */
function videoLabel(name: string, self: boolean): string {
  return self ? `${name} (you), your camera` : `${name}, standard video`;
}

/** One person on screen: video, name, state badges and (for others) the stats panel. */
export class Tile {
  readonly element: HTMLElement;
  readonly video: HTMLVideoElement;
  private readonly badges: HTMLElement;
  private readonly nameLabel: HTMLElement;
  /** Remote tiles: the standard video's caption, with its codec and rate once measured. */
  private readonly standardCaption: HTMLElement;
  /** Our own tile: why there is no picture (camera blocked or missing), in place of the video. */
  private readonly cameraProblem: HTMLElement;
  /** Our own tile: a hint over our picture ("no face in view: face the camera"). */
  private readonly selfHint: HTMLElement;
  /** Remote tiles: which video this person sends us and why. */
  private readonly videoLabel: HTMLElement | undefined;
  private participant: RemoteParticipant | undefined;
  private remoteState: PeerState = DEFAULT_PEER_STATE;
  private connection: 'connecting' | 'connected' | 'reconnecting' | 'local';
  private readonly stats: StatsPanel | undefined;
  /** Remote tiles: the person as kiloface rebuilds them, beside the standard-codec video. */
  readonly neural: NeuralView | undefined;
  private unsubscribe: (() => void)[] = [];

  constructor(options: { id: string; name: string; self: boolean }) {
    this.video = h('video', { autoplay: true, playsinline: true, 'aria-label': videoLabel(options.name, options.self) });
    this.video.muted = options.self; // never play our own microphone back
    this.badges = h('span', { class: 'badges', 'data-role': 'badges' });
    this.connection = options.self ? 'local' : 'connecting';
    this.nameLabel = h('strong', {}, options.self ? `${options.name} (you)` : options.name);
    if (!options.self) {
      this.neural = new NeuralView(options.name);
      this.videoLabel = h('div', { class: 'video-mode', 'data-role': 'video-mode' }, 'video mode not told yet');
    }
    this.standardCaption = h('figcaption', { 'data-role': 'standard-caption' }, 'standard codec (WebRTC video)');
    this.cameraProblem = h('div', { class: 'camera-problem', 'data-role': 'camera-problem', hidden: true });
    this.selfHint = h('div', { class: 'self-hint', 'data-role': 'self-hint', role: 'status', hidden: true });
    const media = this.neural
      ? h('div', { class: 'media' }, h('figure', { class: 'standard' }, this.video, this.standardCaption), this.neural.element)
      : h('div', { class: 'self-picture' }, this.video, this.cameraProblem, this.selfHint);
    this.element = h(
      'section',
      { class: 'tile', 'data-peer': options.self ? 'self' : options.id, 'data-connection': options.self ? 'local' : 'connecting' },
      media,
      h('div', { class: 'caption' }, this.nameLabel, this.badges),
      ...(this.videoLabel ? [this.videoLabel] : []),
    );
    if (!options.self) {
      this.stats = new StatsPanel(
        () => this.participant,
        (figures) => {
          // One line in a narrow tile (cut with "…"): the whole caption on hover.
          this.standardCaption.textContent = this.standardCaption.title = standardCaption(figures.receive);
        },
      );
      this.element.append(this.stats.element);
      this.render();
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

  /** Our own tile once the server has told us our name. */
  setSelfName(name: string): void {
    this.nameLabel.textContent = `${name} (you)`;
    this.video.setAttribute('aria-label', videoLabel(name, true));
  }

  /** Our own tile without a camera: says why, where the picture would be. */
  showCameraProblem(text: string): void {
    this.cameraProblem.textContent = text;
    this.cameraProblem.hidden = false;
    this.video.hidden = true;
  }

  /** Our own tile: a hint over the picture, or none. */
  showSelfHint(text: string | undefined): void {
    this.selfHint.hidden = text === undefined;
    if (text !== undefined && this.selfHint.textContent !== text) this.selfHint.textContent = text;
  }

  /** Follows a (new) connection to this person: P2P or through the SFU. */
  attach(participant: RemoteParticipant): void {
    for (const off of this.unsubscribe) off();
    this.participant = participant;
    this.setConnection(participant.connected ? 'connected' : 'connecting');
    this.unsubscribe = [
      participant.on('stream', (stream) => this.setStream(stream)),
      participant.on('connect', () => this.setConnection('connected')),
      participant.on('close', () => {
        if (this.participant === participant) this.setConnection('reconnecting');
      }),
    ];
    if (participant.remoteStream) this.setStream(participant.remoteStream);
  }

  showRemoteState(state: PeerState): void {
    this.remoteState = state;
    this.render();
  }

  private setConnection(connection: Tile['connection']): void {
    this.connection = connection;
    this.render();
  }

  private render(): void {
    this.element.dataset.connection = this.connection;
    const { connection, remoteState: state } = this;
    if (this.videoLabel && state.video) {
      // The layout follows what they send: kiloface alone fills the tile, standard alone too.
      this.element.dataset.video = state.video.active;
      this.videoLabel.textContent = `receiving ${describeVideoState(state.video)}`;
    }
    this.neural?.setCameraOff(state.cameraOff);
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
