import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMailer } from '../../src/adapters/mail.ts';

const dir = mkdtempSync(join(tmpdir(), 'gw-mail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mail (nodemailer stream transport into a folder)', () => {
  it('writes each message as an owner-only .eml with its headers and text', async () => {
    const mailer = createMailer({ dir: join(dir, 'mail') }, 'App <no-reply@example.test>');
    await mailer.send({ to: 'ann@example.test', subject: 'Reset your password', text: 'token: abc123\n' });
    const [file] = readdirSync(join(dir, 'mail'));
    expect(file).toMatch(/\.eml$/);
    const path = join(dir, 'mail', file!);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const eml = readFileSync(path, 'utf8');
    expect(eml).toMatch(/^From: App <no-reply@example\.test>$/m);
    expect(eml).toMatch(/^To: ann@example\.test$/m);
    expect(eml).toMatch(/^Subject: Reset your password$/m);
    expect(eml).toContain('token: abc123');
  });
});
