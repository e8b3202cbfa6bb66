import { describe, expect, it } from 'vitest';
import { commonPasswords } from '../../src/adapters/common-passwords.ts';

describe('common-password list (@zxcvbn-ts/language-common)', () => {
  it('holds at least 10,000 lower-case entries, the most common first among them', () => {
    const list = commonPasswords();
    expect(list.size).toBeGreaterThanOrEqual(10_000);
    for (const password of ['password', '12345678', 'qwerty', 'letmein', 'iloveyou']) {
      expect(list.has(password)).toBe(true);
    }
    expect(list.has('correct horse battery staple 7')).toBe(false);
    expect([...list].every((entry) => entry === entry.toLowerCase())).toBe(true);
  });
});
