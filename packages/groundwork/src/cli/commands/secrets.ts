import { generateKey } from '../../security/secrets.ts';
import { defineCommand, JSON_OPTION } from '../command.ts';
import { UsageError } from '../output.ts';

export const secretsCommand = defineCommand({
  name: 'secrets',
  summary: 'generate-key: print a new SECRET_KEYS entry (put it first to encrypt with it)',
  usage: 'secrets generate-key [--id <keyId>] [--json]',
  options: {
    ...JSON_OPTION,
    id: { type: 'string', description: 'the key id to print before the key (default: a date-based id)' },
  },
  examples: ['groundwork secrets generate-key            # then put it first in SECRET_KEYS'],
  async run({ values, positionals }, out) {
    if (positionals[0] !== 'generate-key') throw new UsageError('usage: secrets generate-key [--id <keyId>]');
    const key = generateKey(values.id);
    out.result({ key }, key);
    return 0;
  },
});
