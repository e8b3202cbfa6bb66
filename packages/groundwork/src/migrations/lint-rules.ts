/**
 * The migration lint rules: one id each (in the spirit of squawk's), why the statement hurts a live database,
 * and the safe recipe. `groundwork db lint`, `revision` (on what it writes) and `check` report them; docs/migrations.md
 * lists them from this table.
 */
export const LINT_RULES = {
  'require-concurrent-index-creation': {
    why: 'CREATE INDEX blocks every write to the table until the whole index is built.',
    recipe:
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS, alone in a "-- groundwork:no-transaction" migration (autogenerate writes this).',
  },
  'require-concurrent-index-deletion': {
    why: 'DROP INDEX takes an ACCESS EXCLUSIVE lock: reads and writes wait behind it and behind anything it waits for.',
    recipe: 'DROP INDEX CONCURRENTLY IF EXISTS, in a "-- groundwork:no-transaction" migration.',
  },
  'concurrent-index-in-transaction': {
    why: 'PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY inside a transaction block, so the migration fails at deploy.',
    recipe: 'Put the statement in its own migration whose up.sql starts with "-- groundwork:no-transaction".',
  },
  'adding-foreign-key-constraint': {
    why: 'Adding a validated foreign key blocks writes to both tables while every row is checked.',
    recipe:
      'ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a separate transaction.',
  },
  'constraint-missing-not-valid': {
    why: 'A CHECK added without NOT VALID, or validated in the transaction that added it, holds the lock for a full scan.',
    recipe:
      'ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in a separate transaction (a no-transaction migration).',
  },
  'disallowed-unique-constraint': {
    why: 'ADD UNIQUE / PRIMARY KEY builds its index while blocking writes (and reads, for a primary key).',
    recipe:
      'CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE ... ADD CONSTRAINT ... UNIQUE|PRIMARY KEY USING INDEX (autogenerate writes this).',
  },
  'adding-not-nullable-field': {
    why: 'ADD COLUMN ... NOT NULL without a default fails on a table with rows.',
    recipe:
      'Give it a DEFAULT (constant defaults need no rewrite), or add it nullable, backfill, then set NOT NULL.',
  },
  'setting-not-null': {
    why: 'SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock.',
    recipe:
      'ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c; SET NOT NULL (no scan, PostgreSQL 12+); DROP CONSTRAINT c.',
  },
  'changing-column-type': {
    why: 'Most type changes (integer -> bigint included) rewrite the table and its indexes under an ACCESS EXCLUSIVE lock.',
    recipe:
      'Expand/contract: a new column, a sync trigger, a batched backfill, then switch and drop (revision --expand-contract table.column).',
  },
  'renaming-column': {
    why: 'The running release still reads and writes the old name: it fails from the moment the rename commits.',
    recipe:
      'Add the new column, write both, backfill, switch readers, then drop the old one in a later release.',
  },
  'renaming-table': {
    why: 'The running release still reads and writes the old table name: it fails from the moment the rename commits.',
    recipe:
      'Create the new table (or a view under the old name), move readers and writers, then drop the old name later.',
  },
  'renaming-enum-value': {
    why: 'The running release still writes the old label, which PostgreSQL then rejects.',
    recipe:
      'Add the new value, move writers and rows to it, then stop using (or rebuild away) the old one in a later release.',
  },
  'ban-drop-column': {
    why: 'The running release may still read the column: its queries fail from the moment the drop commits.',
    recipe: 'Stop reading and writing it in one release, drop it in the next.',
  },
  'ban-drop-table': {
    why: 'The running release may still use the table, and its rows are gone for good.',
    recipe: 'Stop using it in one release, drop it in the next (keep a backup if the rows matter).',
  },
  'adding-volatile-default': {
    why: 'A column added with a volatile default (random(), gen_random_uuid(), clock_timestamp(), serial, identity) rewrites the table under an ACCESS EXCLUSIVE lock.',
    recipe: 'Add the column without the default, set the default, then backfill existing rows in batches.',
  },
  'adding-stored-generated-column': {
    why: 'Adding a STORED generated column rewrites the table under an ACCESS EXCLUSIVE lock.',
    recipe: 'Add a plain column, fill it with a trigger and a batched backfill, or compute it in queries.',
  },
  'transaction-nesting': {
    why: 'The runner wraps the migration in a transaction: a BEGIN, COMMIT or ROLLBACK inside breaks its all-or-nothing guarantee.',
    recipe:
      'Remove it, or make the migration "-- groundwork:no-transaction" and write each statement to be rerun safely.',
  },
  'no-transaction-not-idempotent': {
    why: 'A no-transaction migration that fails half-way is rerun from its first statement, which then fails or repeats work.',
    recipe:
      'IF NOT EXISTS / IF EXISTS forms; "DROP CONSTRAINT IF EXISTS c, ADD CONSTRAINT c ..." in one ALTER; no renames there.',
  },
} as const satisfies Record<string, { why: string; recipe: string }>;

export type LintRuleId = keyof typeof LINT_RULES;

/** Findings about the annotations themselves: never silenced by one. */
export const ANNOTATION_RULES = {
  'invalid-sql': 'The file does not parse as PostgreSQL: it would fail at deploy.',
  'allow-needs-reason': 'A "-- groundwork:allow <rule>" line needs a reason after the rule.',
  'unknown-rule': 'A "-- groundwork:allow" line names a rule that does not exist.',
} as const;

export type AnnotationRuleId = keyof typeof ANNOTATION_RULES;

export const isLintRule = (id: string): id is LintRuleId => Object.hasOwn(LINT_RULES, id);
