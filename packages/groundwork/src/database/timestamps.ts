/** A timestamptz in PostgreSQL's text form at UTC, as a session whose TimeZone is UTC writes it. */
const UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

/**
 * A timestamptz read as text (Drizzle's `mode: 'string'`: `2026-11-22 07:34:35.123456+00`) in ISO 8601 at
 * UTC with milliseconds, as `Date#toISOString` writes it (microseconds truncated). At UTC the string is
 * rearranged, which is cheaper than parsing it into a Date, a few times per response. Any other offset goes
 * through Date, written the ISO way first (`T`, `+05:00`).
 */
export function isoTimestamp(value: string): string {
  const utc = UTC_TEXT.exec(value);
  if (utc) return `${utc[1]}T${utc[2]}.${`${utc[3] ?? ''}000`.slice(0, 3)}Z`;
  return new Date(value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString();
}

/**
 * `new Date(ms).toISOString()` for a clock read on every request, of whole milliseconds: the text up to the
 * second is kept while the second lasts, so most calls only append the milliseconds.
 */
export function isoClock(): (ms: number) => string {
  let second = Number.NaN;
  let prefix = '';
  return (ms) => {
    const at = Math.floor(ms / 1000);
    if (at !== second) {
      second = at;
      // Everything but the milliseconds and the Z, whatever the year's width.
      prefix = new Date(at * 1000).toISOString().slice(0, -4);
    }
    const millis = ms - at * 1000;
    return `${prefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
  };
}
