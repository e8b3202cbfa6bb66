import type * as PgQuery from 'libpg-query';

let loaded: Promise<typeof PgQuery> | undefined;

/**
 * PostgreSQL's own parser (libpg-query, compiled to WebAssembly and shipped in the npm package), loaded on
 * first use: only `db lint`, `revision` and `check` need it, and no other command pays for its start.
 */
export function sqlParser(): Promise<typeof PgQuery> {
  loaded ??= import('libpg-query').then(async (parser) => {
    await parser.loadModule();
    return parser;
  });
  return loaded;
}
