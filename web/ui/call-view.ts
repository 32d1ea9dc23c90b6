import type { Call } from '../call/call.ts';
import { roomPath } from '../route.ts';
import { h } from '../util/dom.ts';
import type { NeuralStream } from '../neural/neural-stream.ts';
import { NEURAL_TARGETS_KBPS } from '../neural/settings.ts';
import { NeuralSendStats } from './neural-view.ts';
import { settingsControls } from './settings-controls.ts';
import { Tile } from './tile.ts';
import type { VideoModeController } from '../call/video-mode-controller.ts';
import { VIDEO_MODES } from '../call/video-mode.ts';
import { CallFigures } from './call-figures.ts';
import { cameraLabel, describeMediaProblems } from '../call/local-media.ts';

const NOTICE_MS = 8000;
/** Our tracker has found no face for this long (ms): our own tile says so, before the others wonder. */
const NO_FACE_HINT_MS = 3000;

/** The in-call screen: header with room and connection status, tiles, and the control bar. */
export function renderCallView(root: HTMLElement, call: Call, neural: NeuralStream, video: VideoModeController, room: string, onLeave: () => void): void {
  const tiles = new Map<string, Tile>();
  // A live region: screen readers announce "reconnecting to server…" and "connected" as they happen.
  const status = h('span', { class: 'status', 'data-role': 'signalling', 'data-state': call.signallingState, role: 'status', 'aria-live': 'polite' }, 'connecting…');
  const secured = h('span', { class: 'secured' });
  const modeLabel = h('span', { class: 'mode', 'data-role': 'mode', 'data-mode': call.mode }, '');
  const roomUrl = `${location.origin}${roomPath(room)}`;
  const copy = copyButton(roomUrl, 'copy link');
  const grid = h('div', { class: 'tiles' });
  const notices = h('div', { class: 'notices', 'aria-live': 'polite' });
  // Lasting messages under the header (a blocked camera, …): they stay until the cause is gone.
  const banners = h('div', { class: 'banners' });
  // Alone in the room: how to get someone in (the secret, if any, travels separately).
  const inviteSecret = h('span');
  const invite = h('div', { class: 'banner invite', 'data-role': 'invite-hint', hidden: true },
    'You are alone in this room. Share this link to invite someone: ', h('a', { href: roomUrl, 'data-role': 'invite-link' }, roomUrl), ' ', copyButton(roomUrl, 'copy'), inviteSecret);
  banners.append(invite);
  const mediaProblem = describeMediaProblems(call.mediaProblems);
  if (mediaProblem) {
    banners.append(
      h('div', { class: 'banner warning', role: 'alert', 'data-role': 'media-problem' },
        h('strong', {}, mediaProblem.title), ' ', mediaProblem.consequence, ...mediaProblem.help.map((line) => h('p', {}, line))),
    );
  }

  // Toggle buttons keep their label and say their state by aria-pressed (and its style): a label
  // that flips as well reads as the opposite state to a screen reader ("unmute, pressed").
  const mute = h('button', { type: 'button', 'aria-pressed': String(call.state.muted), 'data-role': 'mute', disabled: !!call.mediaProblems.microphone }, 'mute');
  mute.addEventListener('click', () => {
    call.setMuted(!call.state.muted);
    mute.setAttribute('aria-pressed', String(call.state.muted));
  });
  const camera = h('button', { type: 'button', 'aria-pressed': String(call.state.cameraOff), 'data-role': 'camera', disabled: !!call.mediaProblems.camera }, 'camera off');
  camera.addEventListener('click', () => {
    video.setCameraOff(!call.state.cameraOff);
    camera.setAttribute('aria-pressed', String(call.state.cameraOff));
    if (call.state.cameraOff) selfTile.showSelfHint(undefined); // a camera that is off sees no face, rightly
  });
  const leave = h('button', { type: 'button', 'data-role': 'leave' }, 'leave');
  const neuralKbps = h('select', { name: 'neural-kbps', 'aria-label': 'kiloface target bitrate' });
  for (const kbps of NEURAL_TARGETS_KBPS) neuralKbps.append(h('option', { value: String(kbps), selected: kbps === neural.targetKbps }, `${kbps} kbit/s`));
  neuralKbps.addEventListener('change', () => neural.setTargetKbps(Number(neuralKbps.value)));
  // What we send: auto picks kiloface or standard from the link; the others are told which and why.
  const videoMode = h('select', { name: 'video-mode', 'aria-label': 'video mode' });
  for (const mode of VIDEO_MODES) videoMode.append(h('option', { value: mode, selected: mode === video.videoMode }, mode));
  videoMode.addEventListener('change', () => video.setMode(videoMode.value as (typeof VIDEO_MODES)[number]));
  leave.addEventListener('click', () => {
    call.leave(); // its 'closed' stops the neural stream and the mode controller
    onLeave();
  });

  root.replaceChildren(
    h(
      'div',
      { class: 'call' },
      h('header', {}, h('span', { class: 'room' }, room), secured, modeLabel, copy, status),
      banners,
      // The tiles scroll inside the stage; our own picture floats over its corner (picture-in-picture).
      h('div', { class: 'stage' }, grid),
      h(
        'footer',
        {},
        mute,
        camera,
        h('label', {}, 'send ', videoMode),
        ...settingsControls(call.mediaSettings, (s) => void call.updateSettings(s).then(() => video.settingsChanged())),
        h('label', {}, 'kiloface ', neuralKbps),
        leave,
      ),
    ),
    notices,
  );

  const selfTile = new Tile({ id: 'self', name: call.self?.name ?? 'you', self: true });
  grid.append(selfTile.element);
  if (call.localStream) selfTile.setStream(call.localStream);
  if (call.mediaProblems.camera) selfTile.showCameraProblem(cameraLabel(call.mediaProblems.camera));
  const figures = new CallFigures();
  selfTile.element.prepend(figures.element);
  figures.showState(video.state);
  video.on('state', (state) => figures.showState(state));
  video.on('measured', (wire) => figures.showWire(wire));
  for (const change of video.switches) figures.addSwitch(change);
  if (neural.sending) {
    const sendStats = new NeuralSendStats();
    selfTile.element.append(sendStats.element);
    neural.on('sender-status', (status) => {
      sendStats.show(status);
      selfTile.showSelfHint(status.noFaceMs >= NO_FACE_HINT_MS && !call.state.cameraOff ? 'no face in view: face the camera' : undefined);
    });
  }

  const tileFor = (id: string, name: string): Tile => {
    let tile = tiles.get(id);
    if (!tile) {
      tile = new Tile({ id, name, self: false });
      tiles.set(id, tile);
      // Their packets may have come before the member list: the receiver already says where it is.
      const state = neural.receiverState.get(id);
      if (state) tile.neural?.showState(state);
      grid.append(tile.element);
    }
    return tile;
  };

  call.on('joined', (self, isSecured) => {
    secured.textContent = isSecured ? '🔒 secret set' : '';
    inviteSecret.textContent = isSecured ? ' (they also need the room secret: tell them separately)' : '';
    if (call.localStream) selfTile.setStream(call.localStream);
    selfTile.setSelfName(self.name);
  });
  call.on('members', (members) => {
    const present = new Set(members.map((m) => m.id));
    for (const [id, tile] of tiles) if (!present.has(id)) (tile.close(), tiles.delete(id), neural.dropPeer(id));
    for (const member of members) tileFor(member.id, member.name);
    invite.hidden = members.length > 0;
  });
  call.on('participant', (participant) => tileFor(participant.peerId, participant.name).attach(participant));
  call.on('peer-state', (peerId, state) => tiles.get(peerId)?.showRemoteState(state));
  call.on('mode', (mode) => {
    modeLabel.dataset.mode = mode;
    modeLabel.textContent = mode === 'sfu' ? 'via server (SFU)' : 'peer-to-peer';
  });
  call.on('signalling', (state) => {
    status.dataset.state = state;
    status.textContent = { connecting: 'connecting…', open: 'connected', reconnecting: 'reconnecting to server…', closed: 'left' }[state];
  });
  neural.on('frame', (peerId, frame) => {
    const view = tiles.get(peerId)?.neural;
    if (view) view.showFrame(frame);
    else frame.bitmap.close();
  });
  neural.on('receiver-state', (peerId, state) => tiles.get(peerId)?.neural?.showState(state));
  neural.on('receiver-status', (peerId, status) => tiles.get(peerId)?.neural?.showStatus(status));
  const showNotice = (text: string): void => {
    const notice = h('div', { class: 'notice' }, text);
    notices.append(notice);
    setTimeout(() => notice.remove(), NOTICE_MS);
  };
  neural.on('notice', showNotice);
  call.on('notice', showNotice);
  video.on('switch', (change) => {
    figures.addSwitch(change);
    console.info(`video: ${change.from} -> ${change.to} (${change.mode}: ${change.reason})`);
    showNotice(`now sending ${change.to === 'none' ? 'no video' : change.to}: ${change.reason}`);
  });
}

const COPIED_MS = 2500;

/** A button that copies `text` and says whether it worked (clipboard access can be refused). */
function copyButton(text: string, label: string): HTMLButtonElement {
  const button = h('button', { type: 'button', title: 'copy the room address (without the secret)', 'data-role': 'copy-link' }, label);
  let timer: ReturnType<typeof setTimeout> | undefined;
  button.addEventListener('click', () => {
    const done = (result: string): void => {
      button.textContent = result;
      clearTimeout(timer);
      timer = setTimeout(() => (button.textContent = label), COPIED_MS);
    };
    // navigator.clipboard is missing outside secure contexts (http on a LAN address).
    const write = navigator.clipboard?.writeText(text) ?? Promise.reject(new Error('no clipboard'));
    write.then(() => done('copied ✓'), () => done('copy failed: select the link'));
  });
  return button;
}
