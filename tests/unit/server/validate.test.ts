import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../../protocol/signalling.ts';
import { validateClientMessage, validateDisplayName } from '../../../server/signalling/validate.ts';

const codeOf = (text: string): string | undefined => {
  const result = validateClientMessage(text);
  return result.ok ? undefined : result.code;
};

describe('validateClientMessage', () => {
  it('accepts the four message types in their documented shape', () => {
    expect(validateClientMessage(JSON.stringify({ type: 'join', room: 'r-1', name: ' Ann ' }))).toEqual({
      ok: true,
      message: { type: 'join', room: 'r-1', name: 'Ann' },
    });
    const resume = { peerId: 'abcdefgh12', token: 'x'.repeat(32) };
    expect(validateClientMessage(JSON.stringify({ type: 'join', room: 'r', name: 'A', secret: 's', resume }))).toMatchObject({
      ok: true,
      message: { secret: 's', resume },
    });
    expect(validateClientMessage(JSON.stringify({ type: 'signal', to: 'abcdefgh12', data: { sdp: 'v=0' } })).ok).toBe(true);
    expect(validateClientMessage('{"type":"leave"}').ok).toBe(true);
    expect(validateClientMessage('{"type":"ping"}').ok).toBe(true);
  });

  it('rejects what is not JSON, not an object, or of an unknown type', () => {
    expect(codeOf('hello')).toBe('bad-json');
    expect(codeOf('')).toBe('bad-json');
    expect(codeOf('[1,2]')).toBe('bad-message');
    expect(codeOf('null')).toBe('bad-message');
    expect(codeOf('"join"')).toBe('bad-message');
    expect(codeOf('{"type":"explode"}')).toBe('bad-message');
    expect(codeOf('{}')).toBe('bad-message');
  });

  it('rejects bad fields with a message that names the problem', () => {
    const bad = [
      { type: 'join', room: '../etc', name: 'A' },
      { type: 'join', room: 'x'.repeat(65), name: 'A' },
      { type: 'join', room: 'r', name: '' },
      { type: 'join', room: 'r', name: 'x'.repeat(LIMITS.maxNameLength + 1) },
      { type: 'join', room: 'r', name: 'bell\u0007' },
      // Invisible and bidi-control characters, Hangul fillers, soft hyphen, lone surrogates (issue 13).
      ...['\u2060', '\u061c', '\u3164', '\u115f', '\u00ad', '\ud800', '\udc00'].map((c) => ({ type: 'join', room: 'r', name: `A${c}B` })),
      { type: 'join', room: 'r', name: '\u3164' },
      { type: 'join', room: 'r', name: '\u0301\u0301' },
      { type: 'join', room: 'r', name: 'A', secret: 5 },
      { type: 'join', room: 'r', name: 'A', secret: '' },
      { type: 'join', room: 'r', name: 'A', resume: { peerId: 'short', token: 'x'.repeat(32) } },
      { type: 'join', room: 'r', name: 'A', admin: true },
      { type: 'signal', to: 'abcdefgh12', data: 'a string' },
      { type: 'signal', to: '<script>', data: {} },
      { type: 'signal', to: 'abcdefgh12', data: {}, extra: 1 },
      { type: 'leave', room: 'r' },
    ];
    for (const message of bad) {
      const result = validateClientMessage(JSON.stringify(message));
      expect(result.ok, JSON.stringify(message)).toBe(false);
      if (!result.ok) expect(result.message.length).toBeGreaterThan(10);
    }
  });

  it('rejects messages over the size limit before parsing them', () => {
    const big = JSON.stringify({ type: 'signal', to: 'abcdefgh12', data: { sdp: 'x'.repeat(LIMITS.maxMessageBytes) } });
    expect(codeOf(big)).toBe('too-large');
  });

  it('survives hostile JSON: deep nesting, prototype keys', () => {
    expect(codeOf('['.repeat(5000) + ']'.repeat(5000))).toBe('bad-message');
    expect(codeOf('{"type":"join","room":"r","name":"A","__proto__":{"admin":true}}')).toBe('bad-message');
  });

  it('cleans display names', () => {
    expect(validateDisplayName('  Zoë  ')).toBe('Zoë');
    expect(validateDisplayName('a\u202eb')).toBeUndefined();
    expect(validateDisplayName(7)).toBeUndefined();
    // Real names in any script, and emoji (a joined one too), stay welcome.
    for (const name of ['李小龍', 'Ngô Bảo Châu', 'أحمد', 'José 😀', 'dev 👩\u200d💻']) expect(validateDisplayName(name)).toBe(name);
    expect(validateDisplayName('a\u200db')).toBeUndefined();
  });
});
