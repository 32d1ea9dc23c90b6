import type { Call } from '../call/call.ts';
import { roomPath } from '../route.ts';
import { h } from '../util/dom.ts';
import { settingsControls } from './settings-controls.ts';
import { Tile } from './tile.ts';

const NOTICE_MS = 8000;

/** The in-call screen: header with room and connection status, tiles, and the control bar. */
export function renderCallView(root: HTMLElement, call: Call, room: string, onLeave: () => void): void {
  const tiles = new Map<string, Tile>();
  const status = h('span', { class: 'status', 'data-role': 'signalling', 'data-state': call.signallingState }, 'connecting…');
  const secured = h('span', { class: 'secured' });
  const modeLabel = h('span', { class: 'mode', 'data-role': 'mode', 'data-mode': call.mode }, '');
  const copy = h('button', { type: 'button', title: 'copy the room address' }, 'copy link');
  copy.addEventListener('click', () => void navigator.clipboard?.writeText(`${location.origin}${roomPath(room)}`));
  const grid = h('div', { class: 'tiles' });
  const notices = h('div', { class: 'notices', 'aria-live': 'polite' });

  const mute = h('button', { type: 'button', 'aria-pressed': 'false', 'data-role': 'mute' }, 'mute');
  mute.addEventListener('click', () => {
    call.setMuted(!call.state.muted);
    mute.setAttribute('aria-pressed', String(call.state.muted));
    mute.textContent = call.state.muted ? 'unmute' : 'mute';
  });
  const camera = h('button', { type: 'button', 'aria-pressed': 'false', 'data-role': 'camera' }, 'camera off');
  camera.addEventListener('click', () => {
    call.setCameraOff(!call.state.cameraOff);
    camera.setAttribute('aria-pressed', String(call.state.cameraOff));
    camera.textContent = call.state.cameraOff ? 'camera on' : 'camera off';
  });
  const leave = h('button', { type: 'button', 'data-role': 'leave' }, 'leave');
  leave.addEventListener('click', () => {
    call.leave();
    onLeave();
  });

  root.replaceChildren(
    h(
      'div',
      { class: 'call' },
      h('header', {}, h('span', { class: 'room' }, room), secured, modeLabel, copy, status),
      grid,
      h('footer', {}, mute, camera, ...settingsControls(call.mediaSettings, (s) => void call.updateSettings(s)), leave),
    ),
    notices,
  );

  const selfTile = new Tile({ id: 'self', name: call.self?.name ?? 'you', self: true });
  grid.append(selfTile.element);
  if (call.localStream) selfTile.setStream(call.localStream);

  const tileFor = (id: string, name: string): Tile => {
    let tile = tiles.get(id);
    if (!tile) {
      tile = new Tile({ id, name, self: false });
      tiles.set(id, tile);
      grid.append(tile.element);
    }
    return tile;
  };

  call.on('joined', (self, isSecured) => {
    secured.textContent = isSecured ? '🔒 secret set' : '';
    if (call.localStream) selfTile.setStream(call.localStream);
    selfTile.element.querySelector('strong')!.textContent = `${self.name} (you)`;
  });
  call.on('members', (members) => {
    const present = new Set(members.map((m) => m.id));
    for (const [id, tile] of tiles) if (!present.has(id)) (tile.close(), tiles.delete(id));
    for (const member of members) tileFor(member.id, member.name);
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
  call.on('notice', (text) => {
    const notice = h('div', { class: 'notice' }, text);
    notices.append(notice);
    setTimeout(() => notice.remove(), NOTICE_MS);
  });
}
