import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoClock, isoTimestamp } from '../src/database/timestamps.ts';

/** What parsing into a Date gives (the answer before isoTimestamp), the reference. */
const viaDate = (text: string) =>
  new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString();

describe('isoTimestamp', () => {
  it('writes the text PostgreSQL gives at UTC as Date#toISOString would, microseconds truncated', () => {
    expect(isoTimestamp('2026-11-22 07:34:35.123456+00')).toBe('2026-11-22T07:34:35.123Z');
    expect(isoTimestamp('2026-11-22 07:34:35.999999+00')).toBe('2026-11-22T07:34:35.999Z');
    expect(isoTimestamp('2026-11-22 07:34:35.1+00')).toBe('2026-11-22T07:34:35.100Z');
    expect(isoTimestamp('2026-11-22 07:34:35+00')).toBe('2026-11-22T07:34:35.000Z');
  });

  it('converts other offsets to UTC through Date', () => {
    expect(isoTimestamp('2026-11-22 12:34:35.5+05:30')).toBe('2026-11-22T07:04:35.500Z');
    expect(isoTimestamp('2026-01-01 00:30:00-03')).toBe('2026-01-01T03:30:00.000Z');
  });

  it('agrees with Date on any instant, at UTC (half the cases) and in other whole-hour offsets', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.oneof(fc.constant(0), fc.integer({ min: -12, max: 14 })),
        (date, micros, hours) => {
          const local = new Date(date.getTime() + hours * 3_600_000).toISOString();
          const fraction = micros === 0 ? '' : `.${String(micros).padStart(6, '0').replace(/0+$/, '')}`;
          const offset = `${hours < 0 ? '-' : '+'}${String(Math.abs(hours)).padStart(2, '0')}`;
          const text = `${local.slice(0, 10)} ${local.slice(11, 19)}${fraction}${offset}`;
          expect(isoTimestamp(text)).toBe(viaDate(text));
        },
      ),
    );
  });
});

describe('isoClock', () => {
  it('writes any whole millisecond as Date#toISOString does, called in order, at random or twice', () => {
    const iso = isoClock();
    const instant = fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 });
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 20 }), (instants) => {
        const near = instants.flatMap((ms) => [ms, ms + 1, ms + 999, ms]);
        for (const ms of near) expect(iso(ms)).toBe(new Date(ms).toISOString());
      }),
    );
    for (const ms of [0, 5, 45, 999, 1000, -1, -1001, 8.64e15])
      expect(iso(ms)).toBe(new Date(ms).toISOString());
  });
});
