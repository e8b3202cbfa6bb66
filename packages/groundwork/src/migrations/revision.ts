import { basename } from 'node:path';
import {
  type DiffResult,
  describeAll,
  diffSnapshots,
  parseRename,
  type Rename,
  reverseRename,
  type Snapshot,
  snapshotFromSchema,
  snapshotsEqual,
  typeChangeWithoutRewrite,
  withRenames,
} from './diff.ts';
import { ExpandContractError, expandContract, type PlannedStep } from './expand-contract.ts';
import {
  EMPTY_TEMPLATE,
  latestSnapshot,
  type Migration,
  nextId,
  readMigrations,
  STATEMENT_BREAKPOINT,
  slugify,
  writeMigration,
} from './folder.ts';
import { headsProblem, type Lineage, mergeHeads, readLineage } from './lineage.ts';
import { allowLine, formatFinding, type LintFinding, lintSql } from './lint.ts';
import { isLintRule, LINT_RULES, type LintRuleId } from './lint-rules.ts';
import { diffOnline, transactionalTarget, withoutImplicitIndexDrops } from './online.ts';

export interface RevisionOptions {
  message: string;
  /** Diff the schema module against the last snapshot; otherwise an empty, hand-written migration. */
  autogenerate: boolean;
  /** Join the heads of branches merged without a merge revision (autogenerate is ignored). */
  merge?: boolean;
  /** `table.old=new`, `old_table=new_table` or `enum:type.old=new`. */
  renames?: string[];
  /**
   * Lint rules the author accepts for this revision, with the reason: written into the migrations that need
   * them as `-- groundwork:allow <rule> <reason>`. Without one, a finding refuses the revision.
   */
  allow?: Partial<Record<LintRuleId, string>>;
  /** `table.column`: write that column's type change as expand, backfill, switch and contract migrations. */
  expandContract?: string;
  now?: Date;
}

export interface RevisionResult {
  /** The last folder written; undefined when autogenerate found nothing to do. */
  dir: string | undefined;
  /** Every folder written, in order (a revision splits into several when one transaction cannot hold it). */
  dirs: string[];
  changes: string[];
  dataLoss: string[];
  /** Statements that fail or surprise on a table with rows, and how the revision was split. */
  warnings: string[];
  /** The lint findings written as allowed, with their reasons. */
  allowed: LintFinding[];
}

/** Autogenerate found unsafe statements nobody allowed: nothing was written. */
export class RevisionRefusedError extends Error {
  override name = 'RevisionRefusedError';
  readonly findings: LintFinding[];
  constructor(findings: LintFinding[]) {
    super(refusal(findings));
    this.findings = findings;
  }
}

function refusal(findings: LintFinding[]): string {
  const rules = [...new Set(findings.map((f) => f.rule))];
  const typeChange = rules.includes('changing-column-type')
    ? '\nFor a type change, --expand-contract <table.column> writes the expand/backfill/switch/contract sequence instead.'
    : '';
  return (
    `Nothing was written: the generated migration would do what a live database cannot take safely:\n` +
    `${findings.map((f) => formatFinding({ ...f, file: basename(f.file) })).join('\n')}\n` +
    `Change schema.ts the safe way (the "instead" lines), or accept it for this revision with ` +
    `${rules.map((rule) => `--allow ${rule}="<why it is safe here>"`).join(' ')}.${typeChange}`
  );
}

/** Parses `rule=reason` (a usage error names what is wrong). */
export function parseAllow(spec: string): [LintRuleId, string] {
  const equals = spec.indexOf('=');
  const [rule, reason] =
    equals < 0 ? [spec.trim(), ''] : [spec.slice(0, equals).trim(), spec.slice(equals + 1).trim()];
  if (!isLintRule(rule))
    throw new Error(
      `--allow ${spec}: unknown rule "${rule}"; the rules: ${Object.keys(LINT_RULES).join(', ')}`,
    );
  if (!reason)
    throw new Error(`--allow ${spec}: give the reason it is safe here: --allow ${rule}="<reason>"`);
  return [rule, reason];
}

const ADD_REQUIRED_COLUMN = /^ALTER TABLE ((?:"[^"]+"\.)?"([^"]+)") ADD COLUMN "([^"]+)" (.+) NOT NULL;$/s;

/**
 * A down that re-adds a dropped NOT NULL column without a default cannot run on a table with rows (the
 * values are gone): it comes back nullable, and says so.
 */
function populatedTableSafe(statements: string[]): string[] {
  return statements.map((statement) => {
    const match = ADD_REQUIRED_COLUMN.exec(statement);
    if (!match || /\b(DEFAULT|GENERATED|PRIMARY KEY)\b|^(small|big)?serial\b/i.test(match[4]!))
      return statement;
    const [, table, , column, type] = match;
    return (
      `-- groundwork: "${column}" comes back nullable: its values were dropped and existing rows have none.\n` +
      `-- Backfill it and SET NOT NULL in a new migration if the older code needs it.\n` +
      `ALTER TABLE ${table} ADD COLUMN "${column}" ${type};`
    );
  });
}

const joinStatements = (statements: string[]) =>
  statements.map((s) => (s.trimEnd().endsWith(';') ? s : `${s};`)).join(`\n${STATEMENT_BREAKPOINT}\n`);

/** A drop and an add of the same kind (table or column) in one revision may be a rename. */
export function mayBeRename(changes: string[]): boolean {
  return ['table', 'column'].some(
    (kind) =>
      changes.some((c) => c.startsWith(`drop ${kind} `)) &&
      changes.some((c) => c.startsWith(`create ${kind} `) || c.startsWith(`add ${kind} `)),
  );
}

const nothingToDo: RevisionResult = {
  dir: undefined,
  dirs: [],
  changes: [],
  dataLoss: [],
  warnings: [],
  allowed: [],
};

/** A planned migration and the header lines it gets. */
interface Planned extends PlannedStep {
  /** Header warnings (data loss, a possible rename). */
  notes: string[];
  /** The `-- groundwork:allow` lines lint asked for. */
  allows: string[];
}

/** Creates a migration folder; generation never prompts and writes nothing on an error or a refusal. */
export async function createRevision(
  migrationsDir: string,
  schema: Record<string, unknown>,
  options: RevisionOptions,
): Promise<RevisionResult> {
  const message = options.message.trim().replace(/\n/g, ' ');
  if (!message) throw new Error('A revision needs a message: revision -m "what it does"');
  const renames: Rename[] = (options.renames ?? []).map(parseRename);
  const migrations = readMigrations(migrationsDir, { mayBeMissing: true });
  const lineage = readLineage(migrations);
  const id = nextId(migrations, options.now);
  const name = `${id}_${slugify(message)}`;
  if (options.merge) return writeMergeRevision(migrationsDir, name, `-- ${message}\n`, lineage, migrations);
  const heads = headsProblem(lineage);
  if (heads) throw new Error(`Cannot write a revision on top of one branch: ${heads}`);
  const previous = latestSnapshot(migrations);

  if (!options.autogenerate) {
    const dir = writeMigration(migrationsDir, name, {
      up: `-- ${message}\n-- ${EMPTY_TEMPLATE}: put statements here, separated by lines "${STATEMENT_BREAKPOINT}".\n`,
      down: `-- Reverse of ${name}: undo up.sql here, or replace this file's first line with\n-- "-- irreversible: <why>" if it cannot be undone.\n`,
      snapshot: { ...previous, id: crypto.randomUUID(), prevId: previous.id },
    });
    return { ...nothingToDo, dir, dirs: [dir] };
  }

  const current = snapshotFromSchema(schema);
  if (renames.length === 0 && snapshotsEqual(previous, current)) return nothingToDo;
  if (options.expandContract && renames.length)
    throw new ExpandContractError('--expand-contract goes in a revision of its own, without --rename');
  const sequence = options.expandContract
    ? expandContract(previous, current, options.expandContract, message)
    : undefined;
  const target = sequence?.rest ?? current;
  const whole = await diffSnapshots(previous, target, { renames });
  const plan = whole.statements.length ? await planRevision(previous, target, renames, message, whole) : [];
  if (sequence) plan.push(...(await sequence.steps()).map((step) => ({ ...step, notes: [], allows: [] })));
  if (plan.length === 0) return nothingToDo;
  const allowed = await lintPlan(plan, options.allow ?? {});
  return writePlan(migrationsDir, id, slugify(message), previous, plan, allowed);
}

/**
 * The migrations one schema change needs: the new enum values when later statements use them (PostgreSQL
 * refuses a value used in the transaction that added it), the transactional step, and the online step
 * (indexes, keys and constraints on existing tables, outside a transaction).
 */
async function planRevision(
  previous: Snapshot,
  current: Snapshot,
  renames: Rename[],
  message: string,
  whole: DiffResult,
): Promise<Planned[]> {
  const plan: Planned[] = [];
  let from = previous;
  const used = newEnumValuesUsed(whole.statements);
  if (used.length > 0) {
    const values: Snapshot = { ...withAddedEnumValues(previous, current), id: crypto.randomUUID() };
    plan.push(
      await transactional(from, values, [], `${message} (new enum values, split out)`, '_enum_values'),
    );
    from = values;
  }
  const mid: Snapshot = {
    ...transactionalTarget(withRenames(from, current, renames), current),
    id: crypto.randomUUID(),
  };
  const main = await transactional(from, mid, renames, message, '');
  if (main.up.statements.length > 0) {
    plan.push(main);
    from = mid;
  }
  const online = await diffOnline(from, current);
  if (online.statements.length > 0) {
    plan.push({
      suffix: '_online',
      message: `${message} (indexes and constraints on existing tables, built without long locks)`,
      noTransaction: true,
      from,
      to: current,
      up: online,
      down: (await diffOnline(current, from)).statements,
      notes: [],
      allows: [],
      allowed: {},
    });
  }
  return plan;
}

async function transactional(
  from: Snapshot,
  to: Snapshot,
  renames: Rename[],
  message: string,
  suffix: string,
): Promise<Planned> {
  const reversed = renames.map(reverseRename);
  const diff = async (a: Snapshot, b: Snapshot, names: Rename[]): Promise<DiffResult> => {
    const { statements } = await diffSnapshots(a, b, { renames: names });
    const source = withRenames(a, b, names);
    return describeAll(withoutImplicitIndexDrops(statements, source, b), source);
  };
  const up = await diff(from, to, renames);
  const down = await diff(to, from, reversed);
  const notes = [
    ...(up.dataLoss.length ? [`data loss: ${up.dataLoss.join('; ')}`] : []),
    ...(mayBeRename(up.changes)
      ? ['If a drop + add above is a rename, regenerate with --rename to keep the data.']
      : []),
  ];
  const downStatements = populatedTableSafe(down.statements);
  return {
    suffix,
    message,
    noTransaction: false,
    from,
    to,
    up,
    down: downStatements,
    notes,
    allows: [],
    allowed: {},
  };
}

/**
 * Lints each planned up.sql. A finding the author allowed (or a type change PostgreSQL makes without a
 * rewrite) becomes an allow line in that migration; any other refuses the whole revision.
 */
async function lintPlan(plan: Planned[], allow: Partial<Record<LintRuleId, string>>): Promise<LintFinding[]> {
  const refused: LintFinding[] = [];
  const allowed: LintFinding[] = [];
  for (const [index, step] of plan.entries()) {
    const findings = await lintSql(joinStatements(step.up.statements), {
      file: `${step.message} (migration ${index + 1} of ${plan.length})`,
      noTransaction: step.noTransaction,
    });
    const reasons = new Map<LintRuleId, string>();
    for (const finding of findings) {
      const rule = finding.rule as LintRuleId;
      const reason =
        step.allowed[rule] ?? allow[rule] ?? reasons.get(rule) ?? catalogOnlyTypeChanges(rule, step);
      if (reason === undefined) refused.push(finding);
      else {
        reasons.set(rule, reason);
        allowed.push({ ...finding, allowed: reason });
      }
    }
    step.allows.push(...[...reasons].map(([rule, reason]) => allowLine(rule, reason)));
  }
  if (refused.length > 0) throw new RevisionRefusedError(refused);
  return allowed;
}

/** The reason for `changing-column-type` when every type change of the step is catalog-only. */
function catalogOnlyTypeChanges(rule: LintRuleId, step: Planned): string | undefined {
  if (rule !== 'changing-column-type') return undefined;
  const changes = step.up.statements.filter((s) => / ALTER COLUMN "[^"]+" SET DATA TYPE /.test(s));
  const free = changes.map((s) => typeChangeWithoutRewrite(s, withRenames(step.from, step.to, [])));
  if (free.some((reason) => reason === undefined)) return undefined;
  return `${free.join(', ')}: PostgreSQL changes the catalog only (no table or index rewrite)`;
}

function writePlan(
  migrationsDir: string,
  id: string,
  slug: string,
  previous: Snapshot,
  plan: Planned[],
  allowed: LintFinding[],
): RevisionResult {
  const dirs: string[] = [];
  const warnings: string[] = [];
  let from = previous;
  for (const [index, step] of plan.entries()) {
    const name = `${BigInt(id) + BigInt(index)}_${step.suffix ? `${slug.slice(0, 60 - step.suffix.length)}${step.suffix}` : slug}`;
    const header = [
      `-- ${step.message}`,
      ...(step.noTransaction ? ['-- groundwork:no-transaction'] : []),
      ...step.allows,
      ...step.notes.map((note) => `-- WARNING: ${note}`),
    ];
    dirs.push(
      writeMigration(migrationsDir, name, {
        up: `${header.join('\n')}\n${joinStatements(step.up.statements)}\n`,
        down: step.down.length
          ? `${step.noTransaction ? '-- groundwork:no-transaction\n' : ''}${joinStatements(step.down)}\n`
          : '-- nothing to undo\n',
        snapshot: { ...step.to, id: step.to.id, prevId: from.id },
      }),
    );
    from = step.to;
  }
  const nameOf = (suffix: string) => basename(dirs[plan.findIndex((step) => step.suffix === suffix)] ?? '');
  const enumValues = plan.find((step) => step.suffix === '_enum_values');
  if (enumValues) {
    const rest = dirs.slice(1).map((dir) => basename(dir));
    warnings.push(
      `enum value(s) ${newEnumValuesUsed([...enumValues.up.statements, ...plan.slice(1).flatMap((s) => s.up.statements)]).join(', ')} ` +
        'are added and used in one revision, which PostgreSQL refuses in one transaction: split into ' +
        `${nameOf('_enum_values')} (the new values) and ${rest.join(', ')} (the rest)`,
    );
  }
  if (plan.length > 1 && plan.some((step) => step.suffix === '_online')) {
    warnings.push(
      `indexes and constraints on existing tables are built outside a transaction, without long locks: ${nameOf('_online')}`,
    );
  }
  if (plan.some((step) => step.suffix === '_contract')) {
    const phases = ['_expand', '_backfill', '_switch', '_contract'].map(nameOf).join(', ');
    warnings.push(
      `the type change is written as expand/contract (${phases}); ship the contract in a later release if the ` +
        'running code still reads the old column',
    );
  }
  return {
    dir: dirs.at(-1),
    dirs,
    changes: plan.flatMap((step) => step.up.changes),
    dataLoss: plan.flatMap((step) => step.up.dataLoss),
    warnings,
    allowed,
  };
}

const ADD_ENUM_VALUE = /^ALTER TYPE (\S+) ADD VALUE '((?:[^']|'')*)'/;

/** Enum values an ADD VALUE statement adds and a later statement of the same migration uses. */
function newEnumValuesUsed(statements: string[]): string[] {
  return statements.flatMap((statement, index) => {
    const match = ADD_ENUM_VALUE.exec(statement);
    if (!match) return [];
    const literal = `'${match[2]}'`;
    return statements.slice(index + 1).some((later) => later.includes(literal))
      ? [`${match[1]!.replaceAll('"', '')}.${match[2]}`]
      : [];
  });
}

/** `previous` with the enums of `current` that only gained values. */
function withAddedEnumValues(previous: Snapshot, current: Snapshot): Snapshot {
  const mid = structuredClone(previous);
  for (const [key, target] of Object.entries(current.enums ?? {})) {
    const before = mid.enums?.[key];
    if (before?.values.every((value) => target.values.includes(value))) {
      mid.enums[key] = structuredClone(target);
    }
  }
  return mid;
}

/**
 * A revision with no SQL whose snapshot is the three-way union of the heads: each branch's migrations still
 * run on their own, and the next autogenerate diffs against both branches' changes.
 */
function writeMergeRevision(
  migrationsDir: string,
  name: string,
  header: string,
  lineage: Lineage,
  migrations: Migration[],
): RevisionResult {
  if (lineage.heads.length < 2) throw new Error('Nothing to merge: the migrations have a single head.');
  const parents = lineage.heads.map((m) => lineage.nodes.get(m.id)!.id);
  const merged = mergeHeads(lineage, migrations);
  const names = lineage.heads.map((m) => m.name).join(' and ');
  const dir = writeMigration(migrationsDir, name, {
    up: `${header}-- Merge revision of ${names}: their migrations run on their own; this one only joins them.\n`,
    down: '-- Merge revision: nothing to undo.\n',
    snapshot: { ...merged, id: crypto.randomUUID(), prevId: parents[0], prevIds: parents },
  });
  return { ...nothingToDo, dir, dirs: [dir], changes: [`merge ${names}`] };
}
