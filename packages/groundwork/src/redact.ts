/** Removes passwords from connection strings and known secret shapes before text reaches a log or a client. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^:/?#@\s]+):([^@/?#\s]*)@/gi;
/** URL parameters (`?password=x&`) and libpq key=value strings (`password=x`, `password = 'a b'`). */
const PASSWORD_PARAM =
  /((?:^|[?&\s;,(])(?:password|pass|pwd|sslpassword)\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s;,)]*)/gi;
const SEALED_SECRET = /\bv1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;

export function redactSecrets(text: string): string {
  return text
    .replace(URL_CREDENTIALS, '$1$2:***@')
    .replace(PASSWORD_PARAM, '$1***')
    .replace(SEALED_SECRET, 'v1.***');
}
