import { hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, verifyPassword } from '../src/security/passwords.ts';

describe('passwords', () => {
  it('hashes with argon2id and the OWASP parameters, and verifies the password', async () => {
    const hashed = await hashPassword('correct horse battery staple');
    expect(hashed).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hashed, 'correct horse battery staple')).toBe(true);
    expect(needsRehash(hashed)).toBe(false);
  });

  it('salts each hash', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it('rejects a wrong password', async () => {
    const hashed = await hashPassword('right');
    expect(await verifyPassword(hashed, 'wrong')).toBe(false);
    expect(await verifyPassword(hashed, '')).toBe(false);
  });

  it('answers false instead of throwing for a malformed hash', async () => {
    for (const malformed of [
      '',
      'not a hash',
      '$argon2id$v=19$m=19456,t=2,p=1$broken',
      '$2b$10$abcdefghijk',
    ]) {
      expect(await verifyPassword(malformed, 'x')).toBe(false);
    }
  });

  it('asks for a rehash when parameters or algorithm differ', async () => {
    expect(needsRehash(await hash('pw', { timeCost: 3 }))).toBe(true);
    expect(needsRehash(await hash('pw', { memoryCost: 8192 }))).toBe(true);
    expect(needsRehash(await hash('pw', { parallelism: 2 }))).toBe(true);
    // 1 is Argon2i; the package's Algorithm enum is ambient-only.
    expect(needsRehash(await hash('pw', { algorithm: 1 }))).toBe(true);
    expect(needsRehash('$2b$10$abcdefghijklmnopqrstuu5Ttb0fXy2iY2m1wqvGm7Lq2B8Xz9y6e')).toBe(true);
  });

  it('still verifies an old-parameter hash so it can be upgraded on login', async () => {
    const old = await hash('pw', { timeCost: 3 });
    expect(await verifyPassword(old, 'pw')).toBe(true);
  });

  it('does not block the event loop while hashing', async () => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 1);
    try {
      const hashes = await Promise.all([1, 2, 3, 4].map((n) => hashPassword(`password ${n}`)));
      expect(hashes).toHaveLength(4);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });
});
