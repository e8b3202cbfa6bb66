import { relative } from 'node:path';
import { appCommand } from '../database-command.ts';

export const lintCommand = appCommand({
  name: 'lint',
  summary:
    'exit 1 when a migration would hurt a live database (long locks, table rewrites, breaking the running release), naming the rule and the safe recipe',
  usage: 'lint [--app <name>] [--json]',
  options: {},
  examples: [
    'groundwork db lint                         # in CI: one finding a statement, exit 1 on any not allowed',
    'groundwork db lint --app learnr --json     # {ok, findings: [{rule, file, line, statement, why, recipe, allowed?}]}',
  ],
  async run({ app }, out) {
    const { formatFinding, isBlocking, lintMigrationsFolder } = await import('../../migrations/lint.ts');
    const findings = (await lintMigrationsFolder(app.migrationsDir)).map((finding) => ({
      ...finding,
      file: relative(process.cwd(), finding.file) || finding.file,
    }));
    const blocking = findings.filter(isBlocking);
    const allowed = findings.length - blocking.length;
    const summary = blocking.length
      ? `${blocking.length} finding(s) to fix or allow${allowed ? `, ${allowed} allowed` : ''}`
      : `OK: no findings${allowed ? ` (${allowed} allowed, each with its reason)` : ''}`;
    out.result(
      { ok: blocking.length === 0, findings },
      [
        ...blocking.map(formatFinding),
        ...findings.filter((f) => !isBlocking(f)).map(formatFinding),
        summary,
      ].join('\n'),
    );
    return blocking.length ? 1 : 0;
  },
});
