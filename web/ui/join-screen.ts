import { LIMITS, type RoomMode } from '../../protocol/signalling.ts';
import type { MediaSettings } from '../call/media-settings.ts';
import { randomRoomName, ROOM_NAME_PATTERN, ROOM_NAME_RULE, type RoomLink } from '../route.ts';
import { h } from '../util/dom.ts';
import { settingsControls } from './settings-controls.ts';

export interface JoinChoice {
  room: string;
  name: string;
  secret?: string;
  mode?: RoomMode;
  settings: MediaSettings;
}

/**
 * Room, name and optional secret; remembers the name for next time. `onJoin` is called once: the
 * button says "joining…" and further submits are ignored until it fails (a second submit would
 * join a second copy of us). `notice` is a line that is not an error ("You left room x").
 */
export function renderJoinScreen(
  root: HTMLElement,
  link: RoomLink,
  messages: { error?: string; notice?: string },
  onJoin: (choice: JoinChoice) => Promise<void>,
): void {
  let settings = link.settings;
  const room = h('input', { name: 'room', required: true, pattern: ROOM_NAME_PATTERN, title: ROOM_NAME_RULE, 'aria-describedby': 'join-error', value: link.room ?? randomRoomName() });
  const name = h('input', { name: 'name', required: true, maxlength: String(LIMITS.maxNameLength), value: link.name ?? localStorage.getItem('kiloface.name') ?? '' });
  const secret = h('input', { name: 'secret', type: 'password', autocomplete: 'off', placeholder: 'optional' });
  if (link.secret) secret.value = link.secret; // the property, not an attribute: kept out of the DOM's markup
  const error = h('p', { class: 'error', id: 'join-error', role: 'alert', 'data-role': 'join-error' }, messages.error ?? '');
  const join = h('button', { class: 'primary', type: 'submit', 'data-role': 'join' }, 'Join');
  const form = h(
    'form',
    { class: 'join' },
    h('h1', {}, 'kiloface'),
    ...(messages.notice ? [h('p', { class: 'left-notice', role: 'status', 'data-role': 'join-notice' }, messages.notice)] : []),
    h('p', {}, 'Video calls for bad links. Share the room address; anyone with it (and the secret, if set) can join.'),
    h('label', {}, 'Room', room),
    h('label', {}, 'Your name', name),
    h('label', {}, 'Room secret', secret),
    h('div', { class: 'row' }, ...settingsControls(settings, (s) => (settings = s))),
    error,
    join,
  );
  // The browser checks the pattern before submitting; say why in the page, not only in its bubble.
  room.addEventListener('invalid', () => {
    room.setAttribute('aria-invalid', 'true');
    error.textContent = room.validity.valueMissing ? 'Pick a room name.' : `"${room.value}" cannot be a room name. ${ROOM_NAME_RULE}`;
  });
  room.addEventListener('input', () => {
    if (!room.validity.valid) return;
    room.removeAttribute('aria-invalid');
    if (error.textContent?.includes(ROOM_NAME_RULE)) error.textContent = '';
  });
  let joining = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (joining) return;
    joining = true;
    join.disabled = true;
    join.textContent = 'joining…';
    form.setAttribute('aria-busy', 'true');
    localStorage.setItem('kiloface.name', name.value.trim());
    const choice = { room: room.value, name: name.value.trim(), ...(secret.value ? { secret: secret.value } : {}), ...(link.mode ? { mode: link.mode } : {}), settings };
    onJoin(choice).catch((failure: unknown) => {
      joining = false;
      join.disabled = false;
      join.textContent = 'Join';
      form.removeAttribute('aria-busy');
      error.textContent = `Could not join: ${(failure as Error)?.message ?? String(failure)}`;
    });
  });
  root.replaceChildren(form);
  (link.room ? name : room).focus();
}
