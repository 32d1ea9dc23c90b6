import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../../protocol/signalling.ts';
import { addressWithoutSecret, htmlPattern, parseRoomLink, ROOM_NAME_PATTERN } from '../../../web/route.ts';

describe('room links (issue 13 item 9)', () => {
  it('a malformed percent-encoding in the room is an invalid room with a message, not an exception', () => {
    for (const pathname of ['/r/%E0%A4%A', '/r/%', '/r/%zz', '/r/%ED%A0%80']) {
      const link = parseRoomLink({ pathname, search: '?name=Ann' });
      expect(link.room, pathname).toBeUndefined();
      expect(link.problem, pathname).toMatch(/not valid/);
      expect(link.name).toBe('Ann');
    }
  });

  it('a room name outside the allowed characters says so too; a good one has no problem', () => {
    expect(parseRoomLink({ pathname: '/r/a%20b', search: '' }).problem).toMatch(/not valid/);
    expect(parseRoomLink({ pathname: `/r/${'x'.repeat(65)}`, search: '' }).problem).toMatch(/not valid/);
    const good = parseRoomLink({ pathname: '/r/amber-1234', search: '?secret=s3cret' });
    expect(good).toMatchObject({ room: 'amber-1234', secret: 's3cret' });
    expect(good.problem).toBeUndefined();
    expect(parseRoomLink({ pathname: '/', search: '' }).problem).toBeUndefined();
  });

  it('the address shown after reading ?secret= keeps everything but the secret', () => {
    expect(addressWithoutSecret({ pathname: '/r/amber-1234', search: '?name=Ann&secret=s3cret&cap=50', hash: '#x' })).toBe('/r/amber-1234?name=Ann&cap=50#x');
    expect(addressWithoutSecret({ pathname: '/r/amber-1234', search: '?secret=a&secret=b', hash: '' })).toBe('/r/amber-1234');
    expect(addressWithoutSecret({ pathname: '/r/amber-1234', search: '?name=Ann', hash: '' })).toBeUndefined();
  });
});

describe('the room field checks the server\'s rule in the browser (issue 15 item 5)', () => {
  // Browsers compile `pattern` as new RegExp(`^(?:${pattern})$`, 'v'); an invalid one is ignored silently.
  const asBrowser = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`, 'v');

  it('the pattern compiles with the v flag, which the server\'s own source does not', () => {
    expect(() => asBrowser(LIMITS.roomName.source.slice(1, -1))).toThrow(SyntaxError);
    expect(() => asBrowser(ROOM_NAME_PATTERN)).not.toThrow();
    expect(htmlPattern(/^[a-z-]+$/)).toBe('[a-z\\-]+');
    expect(htmlPattern(/^[-a-z]+$/)).toBe('[\\-a-z]+');
  });

  it('accepts and rejects the same names as the server', () => {
    const browser = asBrowser(ROOM_NAME_PATTERN);
    for (const name of ['amber-1234', 'my_room', 'A', 'x'.repeat(64), 'x'.repeat(65), 'my room!', 'my room', 'a/b', 'é', '', '-', 'a-b_c-', 'a\nb']) {
      expect(browser.test(name), JSON.stringify(name)).toBe(LIMITS.roomName.test(name));
    }
  });
});
