import { createRequire } from 'node:module';

/**
 * The common-password list of `@zxcvbn-ts/language-common` (its `passwords-common` dictionary, about 49,000
 * entries, lower case, from breach corpora). Read from the package's CommonJS build on first use, so an app
 * that never checks a password does not pay for decompressing it. `test/adapters/common-passwords.test.ts`
 * pins the dictionary's name and size.
 */
let common: Set<string> | undefined;

export function commonPasswords(): ReadonlySet<string> {
  if (!common) {
    const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as {
      dictionary: Record<string, string[]>;
    };
    const list = dictionary['passwords-common'];
    if (!list) throw new Error('@zxcvbn-ts/language-common no longer has a passwords-common dictionary');
    common = new Set(list);
  }
  return common;
}
