/**
 * `groundwork db lint`: each unsafe form in a hand-written migration exits 1 naming its rule, an allow line with a
 * reason silences it, and every app's migrations have no finding. No database is needed.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onlineStep } from '../src/adapters/drizzle-kit-sql.ts';
import { isBlocking, lintMigrationsFolder, lintSql } from '../src/migrations/lint.ts';
import { LINT_RULES } from '../src/migrations/lint-rules.ts';
import { addMigration, copyApp, runMain } from './support/harness.ts';

const NO_TRANSACTION = '-- groundwork:no-transaction';

/** Every rule, with a statement on the fixture's populated `books` table that breaks it. */
const UNSAFE: [rule: keyof typeof LINT_RULES, sql: string[]][] = [
  ['require-concurrent-index-creation', ['CREATE INDEX books_title_idx ON books (title)']],
  ['require-concurrent-index-deletion', ['DROP INDEX books_author_idx']],
  [
    'concurrent-index-in-transaction',
    ['CREATE INDEX CONCURRENTLY IF NOT EXISTS books_title_idx ON books (title)'],
  ],
  [
    'adding-foreign-key-constraint',
    ['ALTER TABLE books ADD CONSTRAINT books_self_fk FOREIGN KEY (id) REFERENCES books (id)'],
  ],
  [
    'constraint-missing-not-valid',
    ["ALTER TABLE books ADD CONSTRAINT books_title_check CHECK (title <> '')"],
  ],
  ['disallowed-unique-constraint', ['ALTER TABLE books ADD CONSTRAINT books_title_key UNIQUE (title)']],
  ['adding-not-nullable-field', ['ALTER TABLE books ADD COLUMN isbn text NOT NULL']],
  ['setting-not-null', ['ALTER TABLE books ALTER COLUMN author SET NOT NULL']],
  ['changing-column-type', ['ALTER TABLE books ALTER COLUMN id TYPE bigint']],
  ['renaming-column', ['ALTER TABLE books RENAME COLUMN author TO writer']],
  ['renaming-table', ['ALTER TABLE books RENAME TO volumes']],
  ['renaming-enum-value', ["ALTER TYPE mood RENAME VALUE 'sad' TO 'unhappy'"]],
  ['ban-drop-column', ['ALTER TABLE books DROP COLUMN author']],
  ['ban-drop-table', ['DROP TABLE books']],
  ['adding-volatile-default', ['ALTER TABLE books ADD COLUMN token uuid DEFAULT gen_random_uuid()']],
  [
    'adding-stored-generated-column',
    ['ALTER TABLE books ADD COLUMN shout text GENERATED ALWAYS AS (upper(title)) STORED'],
  ],
  ['transaction-nesting', ['UPDATE books SET title = upper(title)', 'COMMIT']],
  [
    'no-transaction-not-idempotent',
    [NO_TRANSACTION, 'CREATE INDEX CONCURRENTLY books_title_idx ON books (title)'],
  ],
];

describe('groundwork db lint', () => {
  it('has a case here for every rule', () => {
    expect(UNSAFE.map(([rule]) => rule).sort()).toEqual(Object.keys(LINT_RULES).sort());
  });

  it.each(UNSAFE)(
    'exits 1 on %s in a hand-written migration, 0 once allowed with a reason',
    async (rule, statements) => {
      const app = copyApp();
      const dir = addMigration(join(app, 'migrations'), '20990101000000_hand_written', statements, [
        'SELECT 1',
      ]);
      const failed = await runMain(['db', 'lint'], { cwd: app, env: {} });
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain(`up.sql:`);
      expect(failed.stdout).toMatch(new RegExp(`:\\d+ ${rule}: `));
      expect(failed.stdout).toContain(`why: ${LINT_RULES[rule].why}`);
      expect(failed.stdout).toContain(`instead: ${LINT_RULES[rule].recipe}`);
      expect(failed.stdout).toContain('1 finding(s) to fix or allow');

      const [first, ...rest] = statements;
      const header = first === NO_TRANSACTION ? [first] : [];
      const body = first === NO_TRANSACTION ? rest : statements;
      writeFileSync(
        join(dir, 'up.sql'),
        [
          ...header,
          `-- groundwork:allow ${rule} the table is empty in every environment`,
          body.join(';\n--> statement-breakpoint\n'),
        ].join('\n'),
      );
      const allowed = await runMain(['db', 'lint', '--json'], { cwd: app, env: {} });
      expect(allowed.code).toBe(0);
      const document = JSON.parse(allowed.stdout);
      expect(document).toMatchObject({ ok: true, command: 'db lint' });
      const mine = document.findings.filter((f: { file: string }) => f.file.includes('hand_written'));
      expect(mine).toEqual([
        expect.objectContaining({ rule, allowed: 'the table is empty in every environment' }),
      ]);
    },
  );

  it('an allow line needs a known rule and a reason; SQL that does not parse is a finding', async () => {
    const findings = await lintSql(
      '-- groundwork:allow ban-drop-column\n-- groundwork:allow drop-everything because\nDROP TABLE books;\n',
      { file: 'up.sql', noTransaction: false },
    );
    expect(findings.map((f) => [f.rule, f.line])).toEqual([
      ['allow-needs-reason', 1],
      ['unknown-rule', 2],
      ['ban-drop-table', 3],
    ]);
    const broken = await lintSql('-- x\nALTER TABLE books ADD COLUM x int;\n', {
      file: 'up.sql',
      noTransaction: false,
    });
    expect(broken).toEqual([expect.objectContaining({ rule: 'invalid-sql', line: 2 })]);
  });

  it('does not flag statements on a table created earlier in the same migration', async () => {
    const findings = await lintSql(
      [
        'CREATE TABLE "app"."tags" (id serial PRIMARY KEY, label text, post_id integer)',
        'CREATE INDEX tags_label_idx ON app.tags (label)',
        'ALTER TABLE "app"."tags" ADD CONSTRAINT tags_post_fk FOREIGN KEY (post_id) REFERENCES posts (id)',
        "ALTER TABLE app.tags ADD CONSTRAINT tags_label_check CHECK (label <> ''), ALTER COLUMN label SET NOT NULL",
        'ALTER TABLE app.tags ADD COLUMN slug text NOT NULL, ADD CONSTRAINT tags_slug_key UNIQUE (slug)',
        'ALTER TABLE app.tags ALTER COLUMN post_id TYPE bigint',
        'DROP INDEX app.tags_label_idx',
      ].join(';\n'),
      { file: 'up.sql', noTransaction: false },
    );
    expect(findings).toEqual([]);
  });

  it('finds nothing in the forms autogenerate writes for an existing table', async () => {
    const statements = onlineStep([
      'CREATE UNIQUE INDEX "posts_code_idx" ON "posts" USING btree ("code");',
      'DROP INDEX "posts_old_idx";',
      'ALTER TABLE "posts" ADD CONSTRAINT "posts_code_key" UNIQUE("code");',
      'ALTER TABLE "posts" ADD PRIMARY KEY ("id");',
      'ALTER TABLE "posts" ADD CONSTRAINT "posts_user_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;',
      'ALTER TABLE "posts" ADD CONSTRAINT "posts_score_check" CHECK ("posts"."score" > 0);',
      'ALTER TABLE "posts" ALTER COLUMN "title" SET NOT NULL;',
      'ALTER TABLE "posts" DROP CONSTRAINT "posts_gone";',
    ]);
    const text = `${NO_TRANSACTION}\n${statements.join('\n--> statement-breakpoint\n')}\n`;
    expect(await lintSql(text, { file: 'up.sql', noTransaction: true })).toEqual([]);
  });

  it('finds nothing to fix in any app: each finding is allowed with its reason', async () => {
    const appsDir = resolve(import.meta.dirname, '..', '..', '..', 'apps');
    const apps = readdirSync(appsDir, { withFileTypes: true }).filter((e) => e.isDirectory());
    expect(apps.length).toBeGreaterThanOrEqual(5);
    for (const app of apps) {
      const findings = await lintMigrationsFolder(join(appsDir, app.name, 'migrations'));
      expect(findings.filter(isBlocking), app.name).toEqual([]);
      for (const finding of findings) expect(finding.allowed!.length, finding.file).toBeGreaterThan(20);
    }
  });
});
