import './polyfills.ts';
import { Call } from './call/call.ts';
import { addressWithoutSecret, parseRoomLink, roomPath, signallingUrl } from './route.ts';
import { renderCallView } from './ui/call-view.ts';
import { renderJoinScreen, type JoinChoice } from './ui/join-screen.ts';
import { NeuralStream } from './neural/neural-stream.ts';
import { parseNeuralSettings } from './neural/settings.ts';
import { VideoModeController } from './call/video-mode-controller.ts';
import { DEFAULT_VIDEO_MODE, parseVideoMode } from './call/video-mode.ts';

const root = document.getElementById('app')!;

/** For tools and tests: the running call, whose `links()` are the codec's packet links. */
declare global {
  interface Window {
    kiloface?: { call: Call | undefined; neural?: NeuralStream; video?: VideoModeController };
  }
}
window.kiloface = { call: undefined };

// `?secret=` is read once, then taken out of the address (and so the history); it stays here
// for rejoining after a leave or a refusal.
const link = parseRoomLink(location);
let rememberedSecret = link.secret;
const withoutSecret = addressWithoutSecret(location);
if (withoutSecret !== undefined) history.replaceState(history.state, '', withoutSecret);

// An address naming an invalid room (`/r/my%20room!`) would stay in the bar while we join another
// room: back to the start page, the join screen says why.
if (link.problem) history.replaceState(history.state, '', `/${location.search}`);

function showJoin(messages: { error?: string; notice?: string } = {}): void {
  const current = parseRoomLink(location);
  renderJoinScreen(root, { ...current, ...(rememberedSecret ? { secret: rememberedSecret } : {}) }, messages, (choice) => {
    rememberedSecret = choice.secret;
    // The address follows the room we join (the form checked it with the server's rule).
    history.replaceState(null, '', `${roomPath(choice.room)}${location.search}`);
    return join(choice);
  });
}

async function join(choice: JoinChoice): Promise<void> {
  const params = new URLSearchParams(location.search);
  const mode = parseVideoMode(params.get('video')) ?? DEFAULT_VIDEO_MODE;
  // Auto starts on kiloface too (video-mode-policy.ts): no standard video before the controller says so.
  const call = new Call({ ...choice, signallingUrl: signallingUrl(location), sendStandardVideo: mode === 'standard' || mode === 'both' });
  window.kiloface = { call };
  call.on('fatal', (_code, message) => showJoin({ error: message }));
  await call.start();
  if (call.closed) return; // refused while the camera opened
  // The neural stream rides the call's codec channels; receiving is always on.
  const neural = new NeuralStream(call, parseNeuralSettings(params));
  neural.startSending(call.localStream);
  // `?video=auto|kiloface|standard|both`: what we send (the footer's picker changes it).
  // `?autoNeedKbps=`: what auto thinks standard video needs on the wire (default: the cap + 30).
  const autoNeed = Number(params.get('autoNeedKbps'));
  const video = new VideoModeController(call, neural, mode, autoNeed > 0 ? autoNeed : undefined);
  window.kiloface = { call, neural, video };
  // The call owns the teardown: its workers and timers stop when it ends, however it ends.
  call.on('closed', () => {
    video.close();
    neural.close();
  });
  renderCallView(root, call, neural, video, choice.room, () => showJoin({ notice: `You left room ${choice.room}.` }));
}

// `/r/<room>?name=<name>` joins at once: for shared links, tests and tools.
if (link.room && link.name) {
  void join({ room: link.room, name: link.name, ...(link.secret ? { secret: link.secret } : {}), ...(link.mode ? { mode: link.mode } : {}), settings: link.settings });
} else showJoin(link.problem ? { error: link.problem } : {});
