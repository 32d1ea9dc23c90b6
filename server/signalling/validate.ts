import { LIMITS, type ClientMessage, type ErrorCode } from '../../protocol/signalling.ts';
import { SFU_METHODS, type SfuMethod } from '../../protocol/sfu.ts';

export type Validated =
  | { ok: true; message: ValidMessage }
  | { ok: false; code: ErrorCode; message: string };

const fail = (code: ErrorCode, message: string): Validated => ({ ok: false, code, message });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): string | undefined {
  return Object.keys(value).find((key) => !allowed.includes(key));
}

// Display names are shown to other people: no control or format characters (bidi overrides,
// zero-width joiners, soft hyphens, U+2060…), no private-use or unassigned code points, and none
// of the Hangul fillers that render as nothing; with the u flag a lone surrogate matches \p{Cs}.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0\u2800]/u;
const EMOJI_JOINER = /(?<=\p{Extended_Pictographic}[\u{1F3FB}-\u{1F3FF}\uFE0F]?)\u200d(?=\p{Extended_Pictographic})/gu;
// Something visible must remain: a name of only spaces and combining marks shows as blank.
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;

export function validateDisplayName(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const name = raw.trim();
  // The zero-width joiner is a format character, but between two emoji it draws one (👩‍💻).
  const checked = name.replace(EMOJI_JOINER, '');
  if (name.length === 0 || name.length > LIMITS.maxNameLength || UNPRINTABLE.test(checked) || !VISIBLE.test(checked)) return undefined;
  return name;
}

/** Parses and checks one text frame. Never throws: every problem becomes an error reply. */
/**
 * A client message whose envelope is checked. An SFU request's parameters are not yet: the SFU
 * checks them against its method's schema (server/sfu/sfu-requests.ts) before mediasoup sees them.
 */
export type ValidMessage = Exclude<ClientMessage, { type: 'sfu' }> | { type: 'sfu'; id: number; method: SfuMethod; data: Record<string, unknown> };

export function validateClientMessage(text: string): Validated {
  if (Buffer.byteLength(text, 'utf8') > LIMITS.maxMessageBytes) {
    return fail('too-large', `message larger than ${LIMITS.maxMessageBytes} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('bad-json', 'message is not valid JSON');
  }
  if (!isRecord(parsed)) return fail('bad-message', 'message must be a JSON object');

  switch (parsed.type) {
    case 'join': {
      const extra = onlyKeys(parsed, ['type', 'room', 'name', 'secret', 'resume', 'mode']);
      if (extra) return fail('bad-message', `join: unknown field "${extra}"`);
      if (typeof parsed.room !== 'string' || !LIMITS.roomName.test(parsed.room)) {
        return fail('bad-message', 'join: room must be 1-64 characters of A-Z a-z 0-9 _ -');
      }
      const name = validateDisplayName(parsed.name);
      if (name === undefined) {
        return fail('bad-message', `join: name must be 1-${LIMITS.maxNameLength} printable characters`);
      }
      const message: Extract<ClientMessage, { type: 'join' }> = { type: 'join', room: parsed.room, name };
      if (parsed.mode !== undefined) {
        if (parsed.mode !== 'p2p' && parsed.mode !== 'sfu') return fail('bad-message', 'join: mode must be "p2p" or "sfu"');
        message.mode = parsed.mode;
      }
      if (parsed.secret !== undefined) {
        if (typeof parsed.secret !== 'string' || parsed.secret.length === 0 || parsed.secret.length > LIMITS.maxSecretLength) {
          return fail('bad-message', `join: secret must be a string of 1-${LIMITS.maxSecretLength} characters`);
        }
        message.secret = parsed.secret;
      }
      if (parsed.resume !== undefined) {
        const resume = parsed.resume;
        if (
          !isRecord(resume) ||
          onlyKeys(resume, ['peerId', 'token']) ||
          typeof resume.peerId !== 'string' ||
          !LIMITS.peerId.test(resume.peerId) ||
          typeof resume.token !== 'string' ||
          resume.token.length < 16 ||
          resume.token.length > 128
        ) {
          return fail('bad-message', 'join: resume must be {peerId, token} from an earlier welcome');
        }
        message.resume = { peerId: resume.peerId, token: resume.token };
      }
      return { ok: true, message };
    }
    case 'signal': {
      const extra = onlyKeys(parsed, ['type', 'to', 'data']);
      if (extra) return fail('bad-message', `signal: unknown field "${extra}"`);
      if (typeof parsed.to !== 'string' || !LIMITS.peerId.test(parsed.to)) {
        return fail('bad-message', 'signal: "to" must be a peer id');
      }
      // The payload is opaque to the server (SDP, ICE candidates), but it must be an object.
      if (!isRecord(parsed.data)) return fail('bad-message', 'signal: "data" must be an object');
      return { ok: true, message: { type: 'signal', to: parsed.to, data: parsed.data } };
    }
    case 'sfu': {
      const extra = onlyKeys(parsed, ['type', 'id', 'method', 'data']);
      if (extra) return fail('bad-message', `sfu: unknown field "${extra}"`);
      if (typeof parsed.id !== 'number' || !Number.isInteger(parsed.id) || parsed.id < 0 || parsed.id > 2 ** 31) {
        return fail('bad-message', 'sfu: id must be a non-negative integer');
      }
      if (!SFU_METHODS.includes(parsed.method as SfuMethod)) return fail('bad-message', `sfu: unknown method ${JSON.stringify(String(parsed.method)).slice(0, 40)}`);
      // The parameters' deep shape (RTP, DTLS, SCTP) is checked by the SFU (sfu-requests.ts).
      if (!isRecord(parsed.data)) return fail('bad-message', 'sfu: "data" must be an object');
      return { ok: true, message: { type: 'sfu', id: parsed.id, method: parsed.method as SfuMethod, data: parsed.data } };
    }
    case 'leave':
    case 'ping': {
      const extra = onlyKeys(parsed, ['type']);
      if (extra) return fail('bad-message', `${parsed.type}: unknown field "${extra}"`);
      return { ok: true, message: { type: parsed.type } };
    }
    default:
      return fail('bad-message', `unknown message type ${JSON.stringify(String(parsed.type)).slice(0, 40)}`);
  }
}
