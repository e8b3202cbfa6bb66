import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../src/redact.ts';

describe('redaction of libpq key=value connection strings', () => {
  it('hides password values, bare or quoted, whatever the spacing, and nothing else', () => {
    expect(redactSecrets('host=db port=5432 password=hunter2 dbname=app')).toBe(
      'host=db port=5432 password=*** dbname=app',
    );
    expect(redactSecrets("password='two words \\' quoted' user=app")).toBe('password=*** user=app');
    expect(redactSecrets('connect failed (host=db, password = s3cr3t, sslpassword=k3y)')).toBe(
      'connect failed (host=db, password = ***, sslpassword=***)',
    );
    expect(redactSecrets('PWD=abc;Server=db')).toBe('PWD=***;Server=db');
    // Words that merely end in "password" are not libpq keys.
    expect(redactSecrets('user_password=kept reset_pass=kept')).toBe('user_password=kept reset_pass=kept');
  });
});
