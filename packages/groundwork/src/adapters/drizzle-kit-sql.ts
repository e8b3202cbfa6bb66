/**
 * The SQL drizzle-kit writes, read and rewritten. Relies on the exact text of the statements drizzle-kit 0.31.11
 * emits (`"quoted"` names, `CREATE INDEX "n" ON "t" USING ...`, `ADD CONSTRAINT "n" UNIQUE("a")`, its enum
 * rebuild sequence, its comment for a primary key it cannot name): drizzle-kit has no API that returns
 * structured changes, and its diff engine is worth keeping (rename-free phases, every column type and index
 * option). `test/adapters/drizzle-kit-sql.test.ts` pins each shape to the installed version and fails when one changes.
 */

import { identifier, postgresObjectName } from '../pg-names.ts';

export const DRIZZLE_KIT_VERSION = '0.31.11';

/** An optionally schema-qualified quoted name, as drizzle-kit writes it. */
const QN = '(?:"[^"]+"\\.)?"[^"]+"';

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

const DROP_TABLE_CASCADE = /^(DROP TABLE .+) CASCADE;$/s;

/**
 * drizzle-kit drops a table with CASCADE, which silently takes hand-written views and other tables' FKs with
 * it. Without it PostgreSQL refuses and names the dependent object.
 */
export const withoutCascade = (statement: string) => statement.replace(DROP_TABLE_CASCADE, '$1;');

const ADD_IDENTITY = new RegExp(
  `^ALTER TABLE (${QN}) ALTER COLUMN "([^"]+)" ADD GENERATED .* AS IDENTITY`,
  's',
);

/**
 * An identity added to a populated column starts at 1 and the next insert collides with an existing key:
 * move its sequence past the column's maximum (a no-op on an empty table).
 */
export function withSequenceAfterRows(statement: string): string[] {
  const match = ADD_IDENTITY.exec(statement);
  if (!match) return [statement];
  const [, table = '', column = ''] = match;
  return [
    statement,
    `SELECT setval(pg_get_serial_sequence(${literal(table)}, ${literal(column)}), max("${column}")) FROM ${table} HAVING max("${column}") IS NOT NULL;`,
  ];
}

const DROP_PK = /^DO \$\$ DECLARE pk text;/;
export const isDropPrimaryKey = (statement: string) => DROP_PK.test(statement);

/**
 * drizzle-kit emits only a comment for dropping a column-level primary key (it does not know its name): look
 * the name up. A table without one is left alone, so a rerun of a migration outside a transaction succeeds.
 */
export function dropPrimaryKeyByLookup(statement: string): string {
  if (!statement.includes("can't automatically get name for primary key")) return statement;
  const m = /table_schema = '([^']*)'[\s\S]*?table_name = '([^']*)'/.exec(statement);
  if (!m) return statement;
  const table = `"${m[1]}"."${m[2]}"`;
  return (
    `DO $$ DECLARE pk text; BEGIN SELECT conname INTO pk FROM pg_constraint WHERE conrelid = '${table}'::regclass ` +
    `AND contype = 'p'; IF pk IS NOT NULL THEN EXECUTE format('ALTER TABLE ${table} DROP CONSTRAINT %I', pk); END IF; END $$;`
  );
}

const CREATE_INDEX_CONCURRENTLY = /^CREATE (UNIQUE )?INDEX CONCURRENTLY /;

/** An index built in a transaction (on a table created in it) cannot be CONCURRENTLY, which `.concurrently()` asks. */
export const withoutConcurrently = (statement: string) =>
  statement.replace(CREATE_INDEX_CONCURRENTLY, 'CREATE $1INDEX ');

// ---- the online step: statements run one by one outside a transaction, each safe to rerun ----

/**
 * Where a statement goes in the online step: drops first (an index or key may be replaced under its name),
 * then NOT NULL (a primary key needs its columns NOT NULL), indexes and keys (a foreign key needs the key it
 * references), constraints added NOT VALID, and their validation last.
 */
export const ONLINE_STAGES = ['drop', 'not-null', 'index', 'constraint', 'validate'] as const;
export type OnlineStage = (typeof ONLINE_STAGES)[number];

export interface OnlineStatement {
  stage: OnlineStage;
  sql: string;
}

/** drizzle-kit wrote a statement the online step has no safe form for: a bug here, never a user error. */
export class UnexpectedStatementError extends Error {
  override name = 'UnexpectedStatementError';
}

const DROP_INDEX = new RegExp(`^DROP INDEX (${QN});$`);
const CREATE_INDEX = /^CREATE (UNIQUE )?INDEX (?:CONCURRENTLY )?("[^"]+") ON (.+)$/s;
const DROP_CONSTRAINT = new RegExp(`^ALTER TABLE (${QN}) DROP CONSTRAINT ("[^"]+");$`);
const DROP_NOT_NULL = new RegExp(`^ALTER TABLE ${QN} ALTER COLUMN "[^"]+" DROP NOT NULL;$`);
const SET_NOT_NULL = new RegExp(`^ALTER TABLE (${QN}) ALTER COLUMN "([^"]+)" SET NOT NULL;$`);
const ADD_KEY = new RegExp(
  `^ALTER TABLE (${QN}) ADD CONSTRAINT "([^"]+)" (UNIQUE|PRIMARY KEY)( NULLS NOT DISTINCT)?\\((.+)\\);$`,
);
const ADD_COLUMN_PRIMARY_KEY = new RegExp(`^ALTER TABLE (${QN}) ADD PRIMARY KEY \\((.+)\\);$`);
const ADD_VALIDATED = new RegExp(
  `^ALTER TABLE (${QN}) ADD CONSTRAINT "([^"]+)" ((?:FOREIGN KEY|CHECK) .+);$`,
  's',
);

/** The last part of a quoted, possibly qualified name: `"app"."users"` -> `users`. */
const bareName = (qualified: string) => /"([^"]+)"$/.exec(qualified)![1]!;

/** The temporary CHECK that proves a column NOT NULL before SET NOT NULL (not PostgreSQL 18's `_not_null` name). */
export const notNullCheckName = (column: string) => identifier(`groundwork_not_null_${column}`);

/**
 * A unique index built without blocking writes, then attached as the key (a short catalog change). The key
 * is added only when missing, so the step can be rerun after a failure.
 */
function keyUsingIndex(table: string, name: string, kind: string, nullsNotDistinct: string, columns: string) {
  return [
    `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "${name}" ON ${table} USING btree (${columns})${nullsNotDistinct};`,
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = ${literal(table)}::regclass AND conname = ${literal(name)}) ` +
      `THEN ALTER TABLE ${table} ADD CONSTRAINT "${name}" ${kind} USING INDEX "${name}"; END IF; END $$;`,
  ];
}

/**
 * The online form of one statement drizzle-kit wrote for an existing table: indexes CONCURRENTLY, keys from a
 * concurrently built index, foreign keys and CHECKs NOT VALID then validated, SET NOT NULL after a validated
 * CHECK (PostgreSQL 12+ then skips its scan), every statement idempotent.
 */
export function onlineForms(statement: string): OnlineStatement[] {
  const at = (stage: OnlineStage, ...sql: string[]) => sql.map((text) => ({ stage, sql: text }));
  let m = DROP_INDEX.exec(statement);
  if (m) return at('drop', `DROP INDEX CONCURRENTLY IF EXISTS ${m[1]};`);
  m = DROP_CONSTRAINT.exec(statement);
  if (m) return at('drop', `ALTER TABLE ${m[1]} DROP CONSTRAINT IF EXISTS ${m[2]};`);
  if (isDropPrimaryKey(statement) || DROP_NOT_NULL.test(statement)) return at('drop', statement);
  m = CREATE_INDEX.exec(statement);
  if (m) return at('index', `CREATE ${m[1] ?? ''}INDEX CONCURRENTLY IF NOT EXISTS ${m[2]} ON ${m[3]}`);
  m = ADD_KEY.exec(statement);
  if (m) return at('index', ...keyUsingIndex(m[1]!, m[2]!, m[3]!, m[4] ?? '', m[5]!));
  m = ADD_COLUMN_PRIMARY_KEY.exec(statement);
  if (m)
    return at(
      'index',
      ...keyUsingIndex(
        m[1]!,
        postgresObjectName(bareName(m[1]!), undefined, 'pkey'),
        'PRIMARY KEY',
        '',
        m[2]!,
      ),
    );
  m = ADD_VALIDATED.exec(statement);
  if (m) {
    const [, table, name, definition] = m;
    return [
      ...at(
        'constraint',
        `ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS "${name}", ADD CONSTRAINT "${name}" ${definition} NOT VALID;`,
      ),
      ...at('validate', `ALTER TABLE ${table} VALIDATE CONSTRAINT "${name}";`),
    ];
  }
  m = SET_NOT_NULL.exec(statement);
  if (m) {
    const [, table, column = ''] = m;
    const check = notNullCheckName(column);
    return at(
      'not-null',
      `ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS "${check}", ADD CONSTRAINT "${check}" CHECK ("${column}" IS NOT NULL) NOT VALID;`,
      `ALTER TABLE ${table} VALIDATE CONSTRAINT "${check}";`,
      statement,
      `ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS "${check}";`,
    );
  }
  throw new UnexpectedStatementError(
    `drizzle-kit ${DRIZZLE_KIT_VERSION} wrote a statement the online step has no safe form for: ${statement}`,
  );
}

/** The online step of a diff: every statement in its online form, stage by stage, drizzle-kit's order kept within one. */
export function onlineStep(statements: string[]): string[] {
  const forms = statements.flatMap(onlineForms);
  return ONLINE_STAGES.flatMap((stage) =>
    forms.filter((form) => form.stage === stage).map((form) => form.sql),
  );
}

// ---- enum rebuilds ----

/** Statements `start`..`end` (inclusive) rebuild enum `type` (a value was removed or reordered). */
export interface EnumRebuild {
  type: string;
  start: number;
  end: number;
}

const DROP_TYPE = new RegExp(`^DROP TYPE (${QN});$`);
const TO_TEXT = new RegExp(
  `^ALTER TABLE ${QN} ALTER COLUMN "[^"]+" (?:SET DATA TYPE text|SET DEFAULT .*::text);$`,
  's',
);

/**
 * drizzle-kit rebuilds an enum that lost or reordered a value: its columns go to text (type, then default),
 * `DROP TYPE`, `CREATE TYPE`, then the columns come back (default, then `SET DATA TYPE ... USING`).
 */
export function enumRebuilds(statements: string[]): EnumRebuild[] {
  return statements.flatMap((statement, index) => {
    const type = DROP_TYPE.exec(statement)?.[1];
    if (!type || !statements.slice(index + 1).some((s) => s.startsWith(`CREATE TYPE ${type} AS ENUM`)))
      return [];
    let start = index;
    while (start > 0 && TO_TEXT.test(statements[start - 1]!)) start--;
    const back = `SET DATA TYPE ${type} USING `;
    const end = statements.findLastIndex((s, i) => i > index && s.includes(back));
    return [{ type, start, end: Math.max(end, index + 1) }];
  });
}
