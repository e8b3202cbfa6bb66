import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEV_SECRET_KEYS_FILE,
  developmentKeyRing,
  generateKey,
  isCurrent,
  keyIdOf,
  open,
  parseKeyRing,
  reseal,
  SecretError,
  SecretKeyError,
  seal,
} from '../src/security/secrets.ts';

const OLD = generateKey('old');
const NEW = generateKey('new');
const oldRing = parseKeyRing(OLD);
const rotatedRing = parseKeyRing(`${NEW},${OLD}`);

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

// Replaces one base64url character of a segment with a different one that keeps the encoding canonical.
function flipChar(segment: string, at: number): string {
  const char = segment[at];
  const replacement = char === 'A' ? 'Q' : 'A';
  return segment.slice(0, at) + replacement + segment.slice(at + 1);
}

function withPart(sealed: string, index: number, change: (part: string) => string): string {
  const parts = sealed.split('.');
  parts[index] = change(parts[index]!);
  return parts.join('.');
}

describe('sealed secrets', () => {
  it('round-trips ASCII, unicode and empty plaintexts', () => {
    for (const plaintext of ['ya29.a0AfH6SMB-token', 'пароль 🔑 秘密', '']) {
      const sealed = seal(oldRing, plaintext);
      expect(sealed).toMatch(/^v1\.old\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22,}$/);
      expect(open(oldRing, sealed)).toBe(plaintext);
    }
  });

  it('uses a fresh IV for every seal', () => {
    const a = seal(oldRing, 'same token');
    const b = seal(oldRing, 'same token');
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('fails authentication under another key with the same id', () => {
    const sealed = seal(oldRing, 'token');
    const impostor = parseKeyRing(generateKey('old'));
    const error = thrown(() => open(impostor, sealed));
    expect(error).toBeInstanceOf(SecretError);
    expect(error.message).toMatch(/authentication/);
  });

  it('names an unknown key id', () => {
    const sealed = seal(parseKeyRing(generateKey('gone')), 'token');
    const error = thrown(() => open(oldRing, sealed));
    expect(error).toBeInstanceOf(SecretError);
    expect(error.message).toContain('"gone"');
  });

  it('detects tampering with the ciphertext, the tag and the IV', () => {
    const sealed = seal(oldRing, 'a refresh token long enough to span several blocks');
    const payloadLength = sealed.split('.')[3]!.length;
    const tampered = [
      withPart(sealed, 3, (p) => flipChar(p, 0)), // ciphertext
      withPart(sealed, 3, (p) => flipChar(p, payloadLength - 10)), // tag
      withPart(sealed, 2, (p) => flipChar(p, 5)), // IV
    ];
    for (const value of tampered) {
      expect(value).not.toBe(sealed);
      const error = thrown(() => open(oldRing, value));
      expect(error).toBeInstanceOf(SecretError);
      expect(error.message).toMatch(/authentication/);
    }
  });

  it('refuses a value relabelled with another key id, even when that id maps to the same key', () => {
    const key = OLD.slice(OLD.indexOf(':') + 1);
    const ring = parseKeyRing(`old:${key},alias:${key}`);
    const relabelled = seal(ring, 'token').replace('v1.old.', 'v1.alias.');
    const error = thrown(() => open(ring, relabelled));
    expect(error).toBeInstanceOf(SecretError);
    expect(error.message).toMatch(/authentication/);
  });

  it('rejects malformed strings', () => {
    const sealed = seal(oldRing, 'token');
    const [, , iv, payload] = sealed.split('.') as [string, string, string, string];
    const malformed = [
      '',
      'token',
      'v1.old',
      `v1.old.${iv}`,
      `v9.old.${iv}.${payload}`, // v2 is a real version now; an unknown one is malformed
      `v1..${iv}.${payload}`,
      `v1.bad id.${iv}.${payload}`,
      `v1.old.${iv}.${payload}.extra`,
      `v1.old.${iv}=.${payload}`, // padding is not base64url
      `v1.old.${iv.slice(0, 12)}.${payload}`, // IV too short
      `v1.old.${iv}.${payload.slice(0, 20)}`, // shorter than the tag
      `v1.old.${iv}.${payload.replace(/^./, '+')}`, // base64, not base64url
    ];
    for (const value of malformed) {
      const error = thrown(() => open(oldRing, value));
      expect(error, value).toBeInstanceOf(SecretError);
      expect(error.message).toMatch(/malformed/);
      expect(() => keyIdOf(value)).toThrow(SecretError);
    }
  });

  it('rejects a non-canonical encoding of the same bytes', () => {
    // 1 + 16 bytes encode to 23 characters whose last 2 bits are dropped on decode; flipping one keeps the bytes.
    const sealed = seal(oldRing, 'x');
    const payload = sealed.split('.')[3]!;
    const last = payload.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    const variant = withPart(sealed, 3, (p) => p.slice(0, -1) + sibling);
    expect(Buffer.from(variant.split('.')[3]!, 'base64url')).toEqual(Buffer.from(payload, 'base64url'));
    expect(() => open(oldRing, variant)).toThrow(/malformed/);
  });

  it('never puts the plaintext, the key or the sealed value in an error message', () => {
    const plaintext = 'secret-refresh-token-value';
    const sealed = seal(oldRing, plaintext);
    const key = OLD.slice(OLD.indexOf(':') + 1);
    const failures = [
      thrown(() => open(parseKeyRing(generateKey('old')), sealed)),
      thrown(() =>
        open(
          oldRing,
          withPart(sealed, 3, (p) => flipChar(p, 0)),
        ),
      ),
      thrown(() => open(oldRing, sealed + '.x')),
      thrown(() => open(parseKeyRing(NEW), sealed)),
    ];
    for (const error of failures) {
      for (const forbidden of [plaintext, key, sealed, sealed.split('.')[2]!, sealed.split('.')[3]!]) {
        expect(error.message).not.toContain(forbidden);
      }
    }
  });

  it('rotates: old values open under "new,old", reseal moves them to new and is idempotent', () => {
    const sealedOld = seal(oldRing, 'token');
    expect(keyIdOf(sealedOld)).toBe('old');
    expect(open(rotatedRing, sealedOld)).toBe('token');

    const moved = reseal(rotatedRing, sealedOld);
    expect(keyIdOf(moved)).toBe('new');
    expect(open(rotatedRing, moved)).toBe('token');
    expect(open(parseKeyRing(NEW), moved)).toBe('token');
    expect(reseal(rotatedRing, moved)).toBe(moved);
    expect(keyIdOf(seal(rotatedRing, 'fresh'))).toBe('new');
  });

  it('reseal refuses to carry a tampered value forward', () => {
    const tampered = withPart(seal(rotatedRing, 'token'), 3, (p) => flipChar(p, 0));
    expect(() => reseal(rotatedRing, tampered)).toThrow(SecretError);
  });
});

describe('key ring', () => {
  it('accepts base64 and base64url keys, first entry current, all usable to open', () => {
    const material = randomBytes(32);
    const ring = parseKeyRing(
      ` a:${material.toString('base64')} , b_2-x:${randomBytes(32).toString('base64url')} `,
    );
    expect(ring.current.id).toBe('a');
    expect(ring.current.key.equals(material)).toBe(true);
    expect([...ring.byId.keys()]).toEqual(['a', 'b_2-x']);
  });

  it('generates entries that parse, with a date-like default id', () => {
    const entry = generateKey();
    expect(entry).toMatch(/^k\d{8}:[A-Za-z0-9_-]{43}$/);
    expect(parseKeyRing(entry).current.key).toHaveLength(32);
    expect(generateKey('mine').startsWith('mine:')).toBe(true);
    expect(generateKey('x')).not.toBe(generateKey('x'));
    expect(() => generateKey('bad id')).toThrow(SecretKeyError);
  });

  it('explains each bad setting by entry index, with the fix', () => {
    const short = randomBytes(16).toString('base64');
    const cases: [string, RegExp][] = [
      ['', /SECRET_KEYS is empty; generate one with: groundwork secrets generate-key/],
      ['   ', /SECRET_KEYS is empty/],
      [
        `${NEW},b:${short}`,
        /^SECRET_KEYS entry 2: key must be 32 bytes of base64 \(got 16\); generate one with: groundwork secrets generate-key$/,
      ],
      [`${NEW},${NEW}`, /^SECRET_KEYS entry 2: duplicate key id "new"/],
      [`${NEW},`, /^SECRET_KEYS entry 2: expected '<keyId>:<base64 key>'/],
      [NEW.slice(NEW.indexOf(':') + 1), /^SECRET_KEYS entry 1: expected '<keyId>:<base64 key>'/],
      [`:${randomBytes(32).toString('base64')}`, /^SECRET_KEYS entry 1: key id must be/],
      [`${'x'.repeat(33)}:${randomBytes(32).toString('base64')}`, /^SECRET_KEYS entry 1: key id must be/],
      [
        `a:${randomBytes(32).toString('hex')}`,
        /^SECRET_KEYS entry 1: key must be 32 bytes of base64 \(got 48\)/,
      ],
      [`a:${randomBytes(32).toString('base64')}!`, /^SECRET_KEYS entry 1: key is not base64 or base64url/],
    ];
    for (const [spec, message] of cases) {
      const error = thrown(() => parseKeyRing(spec));
      expect(error, spec).toBeInstanceOf(SecretKeyError);
      expect(error).toBeInstanceOf(SecretError);
      expect(error.message).toMatch(message);
    }
  });

  it('never echoes key material in its errors', () => {
    const keys = [
      randomBytes(16).toString('base64'),
      randomBytes(32).toString('hex'),
      randomBytes(31).toString('base64url'),
    ];
    const specs = [
      `a:${keys[0]}`,
      `a:${keys[1]}`,
      `a:${keys[2]}`,
      keys[0]!,
      `${keys[2]}x!:${keys[0]}`,
      `a:${keys[0]}*`,
    ];
    for (const spec of specs) {
      const message = thrown(() => parseKeyRing(spec)).message;
      for (const key of keys) expect(message).not.toContain(key!);
    }
  });
});

describe('v2: bound to the place it is stored (issue 11)', () => {
  const alice = { table: 'users', column: 'gmail_oauth_token', rowId: 1 };

  it('opens where it was sealed and nowhere else: another row, column or table fails authentication', () => {
    const sealed = seal(oldRing, 'alice-token', alice);
    expect(sealed).toMatch(/^v2\.old\./);
    expect(open(oldRing, sealed, alice)).toBe('alice-token');
    for (const elsewhere of [
      { ...alice, rowId: 2 },
      { ...alice, rowId: '1 ' },
      { ...alice, column: 'gmail_refresh_token' },
      { ...alice, table: 'accounts' },
    ]) {
      const error = thrown(() => open(oldRing, sealed, elsewhere));
      expect(error).toBeInstanceOf(SecretError);
      expect(error.message).toMatch(/moved from another row or column/);
      expect(error.message).not.toContain('alice-token');
    }
    expect(() => open(oldRing, sealed)).toThrow(/opens only with its table, column and row id/);
  });

  it('a v1 value still opens (wherever it is); reseal with a place upgrades it to v2', () => {
    const legacy = seal(oldRing, 'legacy-token');
    expect(legacy).toMatch(/^v1\.old\./);
    expect(open(oldRing, legacy, alice)).toBe('legacy-token');
    expect(isCurrent(oldRing, legacy, alice)).toBe(false);
    const upgraded = reseal(oldRing, legacy, alice);
    expect(upgraded).toMatch(/^v2\.old\./);
    expect(open(oldRing, upgraded, alice)).toBe('legacy-token');
    expect(isCurrent(oldRing, upgraded, alice)).toBe(true);
    expect(reseal(oldRing, upgraded, alice)).toBe(upgraded);
    // Rotation keeps the binding.
    const rotated = reseal(rotatedRing, upgraded, alice);
    expect(rotated).toMatch(/^v2\.new\./);
    expect(() => open(rotatedRing, rotated, { ...alice, rowId: 2 })).toThrow(SecretError);
  });
});

describe('development key ring', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is generated once into the data directory (0600 in a 0700 folder), then read back', () => {
    root = mkdtempSync(join(tmpdir(), 'groundwork-dev-key-'));
    const dataDir = join(root, '.data', 'app');
    const first = developmentKeyRing(dataDir);
    const file = join(dataDir, DEV_SECRET_KEYS_FILE);
    expect(first).toMatchObject({ file, created: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(first.ring.current.id).toMatch(/^dev-\d{8}T\d{6}$/);

    const again = developmentKeyRing(dataDir);
    expect(again).toMatchObject({ file, created: false });
    expect(again.ring.current).toEqual(first.ring.current);
    expect(open(again.ring, seal(first.ring, 'token'))).toBe('token');
    expect(readFileSync(file, 'utf8')).toBe(
      `${first.ring.current.id}:${first.ring.current.key.toString('base64url')}\n`,
    );
  });

  it('names a damaged file without echoing it, and refuses a data directory others can read', () => {
    root = mkdtempSync(join(tmpdir(), 'groundwork-dev-key-'));
    const dataDir = join(root, 'app');
    developmentKeyRing(dataDir);
    const file = join(dataDir, DEV_SECRET_KEYS_FILE);
    writeFileSync(file, 'dev-1:c2hvcnQ\n');
    expect(() => developmentKeyRing(dataDir)).toThrow(SecretKeyError);
    expect(() => developmentKeyRing(dataDir)).toThrow(`${file}: SECRET_KEYS entry 1: key must be 32 bytes`);
    expect(() => developmentKeyRing(dataDir)).not.toThrow('c2hvcnQ');
    chmodSync(dataDir, 0o755);
    expect(() => developmentKeyRing(dataDir)).toThrow(/accessible to group or others/);
  });
});
