import { VIDEO_CAPS_KBPS, VIDEO_CODECS, type MediaSettings } from '../call/media-settings.ts';
import { h } from '../util/dom.ts';

/** Codec and bitrate-cap pickers for the standard-codec video track. */
export function settingsControls(initial: MediaSettings, onChange: (settings: MediaSettings) => void): HTMLElement[] {
  const codec = h('select', { name: 'codec', 'aria-label': 'video codec' });
  for (const name of VIDEO_CODECS) codec.append(h('option', { value: name, selected: name === initial.videoCodec }, name === 'H264' ? 'H.264' : name));
  const cap = h('select', { name: 'cap', 'aria-label': 'video bitrate cap' });
  const caps = VIDEO_CAPS_KBPS.includes(initial.videoCapKbps) ? VIDEO_CAPS_KBPS : [...VIDEO_CAPS_KBPS, initial.videoCapKbps].sort((a, b) => a - b);
  for (const kbps of caps) cap.append(h('option', { value: String(kbps), selected: kbps === initial.videoCapKbps }, `${kbps} kbit/s`));
  const changed = (): void => onChange({ videoCodec: codec.value as MediaSettings['videoCodec'], videoCapKbps: Number(cap.value) });
  codec.addEventListener('change', changed);
  cap.addEventListener('change', changed);
  return [h('label', {}, 'video ', codec), h('label', {}, 'cap ', cap)];
}
