// Video modes per person (what each of us sends), and how one is told to the others.
//
//   kiloface  no standard video track is sent at all (the thin-link call)
//   standard  the standard codec's video only, no kiloface stream
//   both      side by side (today's demo, for comparison)
//   auto      kiloface or standard, chosen from the measured link (video-mode-policy.ts)

export type VideoMode = 'auto' | 'kiloface' | 'standard' | 'both';
export const VIDEO_MODES: readonly VideoMode[] = ['auto', 'kiloface', 'standard', 'both'];

/** What actually goes out now: a mode once `auto` has chosen, or nothing (camera off). */
export type ActiveVideo = 'kiloface' | 'standard' | 'both' | 'none';

/** Told to the others (signalling relay, with mute and camera state), so their tile says what they get and why. */
export interface VideoModeState {
  mode: VideoMode;
  active: ActiveVideo;
  reason: string;
}

export const DEFAULT_VIDEO_MODE: VideoMode = 'auto';

export function parseVideoMode(raw: string | null | undefined): VideoMode | undefined {
  return VIDEO_MODES.find((m) => m === raw?.toLowerCase());
}

/** Which streams an active mode sends. */
export function streamsFor(active: ActiveVideo): { standard: boolean; kiloface: boolean } {
  return { standard: active === 'standard' || active === 'both', kiloface: active === 'kiloface' || active === 'both' };
}

const REASON_MAX = 160;

/** A peer's video state from the relay (untrusted): undefined unless well formed. */
export function parseVideoModeState(raw: unknown): VideoModeState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { mode, active, reason } = raw as Record<string, unknown>;
  const m = parseVideoMode(typeof mode === 'string' ? mode : undefined);
  const a = (['kiloface', 'standard', 'both', 'none'] as const).find((x) => x === active);
  if (!m || !a) return undefined;
  return { mode: m, active: a, reason: typeof reason === 'string' ? reason.slice(0, REASON_MAX) : '' };
}

/** How a tile words a peer's state: "kiloface (auto: link 40 kbit/s, below 130)". */
export function describeVideoState(state: VideoModeState): string {
  const what = state.active === 'none' ? 'no video' : state.active;
  const why = state.mode === 'auto' ? `auto: ${state.reason}` : state.reason;
  return why ? `${what} (${why})` : what;
}
