import { describe, expect, it } from 'vitest';
import { addressWithoutSecret, parseRoomLink } from '../../../web/route.ts';

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
