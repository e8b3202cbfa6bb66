/** The canonical IANA zone names this runtime (ICU) knows, UTC included. */
export const TIME_ZONES: readonly string[] = [
  ...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')]),
].sort();

/**
 * An IANA time zone name this runtime (ICU) knows, e.g. `America/Los_Angeles`, `UTC`, `Europe/Paris`.
 * Returns the name in its canonical spelling when only the case differs (`utc` -> `UTC`), undefined when the
 * zone is unknown. Offsets like `+01:00` are not zone names and are refused: they ignore daylight saving.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return undefined;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  // ICU maps links (`EST` -> `America/Panama`); keep the name the user chose unless only the case differs.
  return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
}
