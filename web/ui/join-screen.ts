import { LIMITS, type RoomMode } from '../../protocol/signalling.ts';
import type { MediaSettings } from '../call/media-settings.ts';
import { randomRoomName, type RoomLink } from '../route.ts';
import { h } from '../util/dom.ts';
import { settingsControls } from './settings-controls.ts';

export interface JoinChoice {
  room: string;
  name: string;
  secret?: string;
  mode?: RoomMode;
  settings: MediaSettings;
}

/** Room, name and optional secret; remembers the name for next time. */
export function renderJoinScreen(root: HTMLElement, link: RoomLink, error: string | undefined, onJoin: (choice: JoinChoice) => void): void {
  let settings = link.settings;
  const room = h('input', { name: 'room', required: true, pattern: LIMITS.roomName.source.slice(1, -1), value: link.room ?? randomRoomName() });
  const name = h('input', { name: 'name', required: true, maxlength: String(LIMITS.maxNameLength), value: link.name ?? localStorage.getItem('kiloface.name') ?? '' });
  const secret = h('input', { name: 'secret', type: 'password', autocomplete: 'off', placeholder: 'optional' });
  if (link.secret) secret.value = link.secret; // the property, not an attribute: kept out of the DOM's markup
  const form = h(
    'form',
    { class: 'join' },
    h('h1', {}, 'kiloface'),
    h('p', {}, 'Video calls for bad links. Share the room address; anyone with it (and the secret, if set) can join.'),
    h('label', {}, 'Room', room),
    h('label', {}, 'Your name', name),
    h('label', {}, 'Room secret', secret),
    h('div', { class: 'row' }, ...settingsControls(settings, (s) => (settings = s))),
    h('p', { class: 'error', role: 'alert' }, error ?? ''),
    h('button', { class: 'primary', type: 'submit' }, 'Join'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    localStorage.setItem('kiloface.name', name.value.trim());
    onJoin({ room: room.value, name: name.value.trim(), ...(secret.value ? { secret: secret.value } : {}), ...(link.mode ? { mode: link.mode } : {}), settings });
  });
  root.replaceChildren(form);
  (link.room ? name : room).focus();
}
