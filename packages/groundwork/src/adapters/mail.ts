import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from '../private-directory.ts';

/** A plain-text message to one address. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/**
 * Mail through nodemailer: to an SMTP server (`smtp://` or `smtps://` URL, with credentials in it) or, in
 * development, into `<dir>/<time>-<random>.eml` (RFC 5322, owner-only), where a developer or a test reads
 * it. `test/adapters/mail.test.ts` pins the message nodemailer writes.
 *
 * nodemailer loads with the first message, not when the app starts: most starts send none, and its ES
 * module build imports `node:http`, whose ES module view loads Node's bundled undici.
 */
export function createMailer(target: { smtpUrl: string } | { dir: string }, from: string): Mailer {
  if ('smtpUrl' in target) {
    const transport = once(async () =>
      (await import('nodemailer')).createTransport(target.smtpUrl, { from }),
    );
    return {
      async send(message) {
        await (await transport()).sendMail(message);
      },
    };
  }
  const transport = once(async () =>
    (await import('nodemailer')).createTransport(
      { streamTransport: true, buffer: true, newline: 'unix' },
      { from },
    ),
  );
  return {
    async send(message) {
      const { message: bytes } = await (await transport()).sendMail(message);
      mkdirSync(target.dir, { recursive: true, mode: 0o700 });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
      writePrivateFile(join(target.dir, name), bytes as Buffer);
    },
  };
}

/** `make()` at the first call, its promise kept for every later one. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}
