import type {
  AlterEnumStmt,
  AlterTableCmd,
  AlterTableStmt,
  ColumnDef,
  Constraint,
  DropStmt,
  IndexStmt,
  Node,
  RangeVar,
  RenameStmt,
} from 'libpg-query';
import { readMigrations } from './folder.ts';
import {
  ANNOTATION_RULES,
  type AnnotationRuleId,
  isLintRule,
  LINT_RULES,
  type LintRuleId,
} from './lint-rules.ts';
import { sqlParser } from './sql-parser.ts';

export interface LintFinding {
  rule: LintRuleId | AnnotationRuleId;
  file: string;
  /** 1-based line of the statement (or of the annotation) in the file. */
  line: number;
  /** The statement's first line. */
  statement: string;
  why: string;
  /** What to write instead; annotation findings have none. */
  recipe?: string;
  /** The reason of the `-- groundwork:allow` line that silences this finding in its file. */
  allowed?: string;
}

export interface LintTarget {
  file: string;
  /** The file runs statement by statement, outside a transaction (`-- groundwork:no-transaction`). */
  noTransaction: boolean;
}

/** A finding that fails `db lint`, `check` and `revision`: not silenced by an annotation. */
export const isBlocking = (finding: LintFinding) => finding.allowed === undefined;

const ALLOW = /^\s*--\s*groundwork:allow\b(.*)$/;

/** The annotation line that silences `rule` in a file. */
export const allowLine = (rule: LintRuleId, reason: string) => `-- groundwork:allow ${rule} ${reason}`;

interface Annotations {
  allows: Map<string, string>;
  problems: LintFinding[];
}

/** `-- groundwork:allow <rule> <reason>` lines, anywhere in the file; malformed ones are findings of their own. */
function readAnnotations(text: string, file: string): Annotations {
  const allows = new Map<string, string>();
  const problems: LintFinding[] = [];
  text.split('\n').forEach((line, index) => {
    const match = ALLOW.exec(line);
    if (!match) return;
    const [rule = '', ...words] = match[1]!.trim().split(/\s+/);
    const reason = words.join(' ');
    const problem = (id: AnnotationRuleId) =>
      problems.push({ rule: id, file, line: index + 1, statement: line.trim(), why: ANNOTATION_RULES[id] });
    if (rule && !isLintRule(rule)) problem('unknown-rule');
    else if (!reason) problem('allow-needs-reason');
    else allows.set(rule, reason);
  });
  return { allows, problems };
}

/** Lints one migration script: every statement PostgreSQL's parser finds, chunk by chunk as the runner sends them. */
export async function lintSql(text: string, target: LintTarget): Promise<LintFinding[]> {
  const { allows, problems } = readAnnotations(text, target.file);
  const parser = await sqlParser();
  const findings: LintFinding[] = [...problems];
  const state = new LintState(target.noTransaction);
  for (const chunk of chunksOf(text)) {
    const bytes = Buffer.from(chunk.text);
    let statements: { node: Node; location: number; length: number }[];
    try {
      statements = (parser.parseSync(chunk.text).stmts ?? []).map((raw) => ({
        node: raw.stmt!,
        location: raw.stmt_location ?? 0,
        length: raw.stmt_len ?? 0,
      }));
    } catch (error) {
      const position =
        (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition ?? 0;
      const line = lineAt(bytes, position);
      findings.push({
        rule: 'invalid-sql',
        file: target.file,
        line: chunk.line + line - 1,
        statement: chunk.text.split('\n')[line - 1]?.trim() ?? '',
        why: `${ANNOTATION_RULES['invalid-sql']} ${(error as Error).message}`,
      });
      continue;
    }
    for (const { node, location, length } of statements) {
      const source = bytes.subarray(location, length ? location + length : undefined).toString();
      for (const rule of state.visit(node)) {
        const reason = allows.get(rule);
        findings.push({
          rule,
          file: target.file,
          line: chunk.line + lineAt(bytes, location) - 1 + leadingNoteLines(source),
          statement: firstCodeLine(source),
          why: LINT_RULES[rule].why,
          recipe: LINT_RULES[rule].recipe,
          ...(reason === undefined ? {} : { allowed: reason }),
        });
      }
    }
  }
  return findings;
}

const BREAKPOINT = /^\s*--> statement-breakpoint\s*$/;

/** The text between breakpoint lines (what the runner sends as one statement), with its first line number. */
function chunksOf(text: string): { text: string; line: number }[] {
  const chunks: { text: string; line: number }[] = [{ text: '', line: 1 }];
  text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .forEach((line, index) => {
      if (BREAKPOINT.test(line)) chunks.push({ text: '', line: index + 2 });
      else chunks.at(-1)!.text += `${line}\n`;
    });
  return chunks;
}

/** Lints the up.sql of every migration in `dir`, oldest first. */
export async function lintMigrationsFolder(dir: string): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  for (const migration of readMigrations(dir)) {
    findings.push(
      ...(await lintSql(migration.up.text, {
        file: migration.up.file,
        noTransaction: migration.up.noTransaction,
      })),
    );
  }
  return findings;
}

/** `file:line rule: statement`, then why and what to do, for a person. */
export function formatFinding(finding: LintFinding): string {
  const head = `${finding.file}:${finding.line} ${finding.rule}: ${finding.statement}`;
  if (finding.allowed !== undefined) return `${head}\n  allowed: ${finding.allowed}`;
  const lines = [head, `  why: ${finding.why}`];
  if (finding.recipe) {
    lines.push(
      `  instead: ${finding.recipe}`,
      `  or, if it is safe here: -- groundwork:allow ${finding.rule} <why it is safe here>`,
    );
  }
  return lines.join('\n');
}

const lineAt = (bytes: Buffer, offset: number) => bytes.subarray(0, offset).toString().split('\n').length;

const isNote = (line: string) => line.trim() === '' || line.trim().startsWith('--');

/** The parser's statement starts after the previous one's semicolon: skip the blank and comment lines before it. */
function leadingNoteLines(source: string): number {
  const lines = source.split('\n');
  const first = lines.findIndex((line) => !isNote(line));
  return first < 0 ? 0 : first;
}

function firstCodeLine(source: string): string {
  const line =
    source
      .split('\n')
      .find((l) => !isNote(l))
      ?.trim() ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

// ---- the rules ----

const VOLATILE_FUNCTIONS = new Set([
  'random',
  'random_normal',
  'gen_random_uuid',
  'uuidv4',
  'uuidv7',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'clock_timestamp',
  'timeofday',
  'nextval',
]);
const SERIAL_TYPES = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);

const stringsOf = (nodes: Node[] | undefined) =>
  (nodes ?? []).flatMap((node) => ('String' in node ? [node.String.sval ?? ''] : []));

/** `schema.name` of a relation, unqualified names in public (the search_path migrations run with). */
const relationKey = (relation: RangeVar | undefined) =>
  `${relation?.schemaname ?? 'public'}.${relation?.relname ?? ''}`;

/** `schema.name` of a dotted name list (DROP INDEX, DROP TABLE). */
function nameKey(node: Node): string {
  const parts = 'List' in node ? stringsOf(node.List.items) : stringsOf([node]);
  return parts.length > 1 ? parts.join('.') : `public.${parts[0] ?? ''}`;
}

/** True when any function call in the expression tree is known to be volatile. */
function callsVolatile(tree: unknown): boolean {
  if (!tree || typeof tree !== 'object') return false;
  if ('FuncCall' in tree) {
    const call = (tree as { FuncCall: { funcname?: Node[] } }).FuncCall;
    if (VOLATILE_FUNCTIONS.has(stringsOf(call.funcname).at(-1) ?? '')) return true;
  }
  return Object.values(tree).some(callsVolatile);
}

const constraintsOf = (column: ColumnDef) =>
  (column.constraints ?? []).flatMap((node) => ('Constraint' in node ? [node.Constraint] : []));

/** The column a `CHECK (col IS NOT NULL)` proves, if that is all it says. */
function notNullColumn(constraint: Constraint): string | undefined {
  const expression = constraint.raw_expr;
  if (!expression || !('NullTest' in expression) || expression.NullTest.nulltesttype !== 'IS_NOT_NULL')
    return undefined;
  const argument = expression.NullTest.arg;
  if (!argument || !('ColumnRef' in argument)) return undefined;
  return stringsOf(argument.ColumnRef.fields).at(-1);
}

/**
 * What earlier statements of the same file established: tables, columns and indexes it created (statements on
 * them are safe: nobody else sees them yet), constraints it added NOT VALID, columns a validated CHECK proved
 * NOT NULL.
 */
class LintState {
  private readonly tables = new Set<string>();
  private readonly columns = new Set<string>();
  private readonly indexes = new Set<string>();
  private readonly notValid = new Set<string>();
  private readonly notNullChecks = new Map<string, string>();
  private readonly provenNotNull = new Set<string>();
  private readonly noTransaction: boolean;

  constructor(noTransaction: boolean) {
    this.noTransaction = noTransaction;
  }

  /** The rules `node` breaks, in the context of the statements before it. */
  visit(node: Node): LintRuleId[] {
    const found: LintRuleId[] = [];
    const flag = (rule: LintRuleId, when = true) => {
      if (when && !found.includes(rule)) found.push(rule);
    };
    const idempotent = (when: boolean) => flag('no-transaction-not-idempotent', this.noTransaction && !when);
    if ('IndexStmt' in node) this.index(node.IndexStmt, flag, idempotent);
    else if ('DropStmt' in node) this.drop(node.DropStmt, flag, idempotent);
    else if ('CreateStmt' in node) {
      this.tables.add(relationKey(node.CreateStmt.relation));
      idempotent(node.CreateStmt.if_not_exists === true);
    } else if ('CreateTableAsStmt' in node) this.tables.add(relationKey(node.CreateTableAsStmt.into?.rel));
    else if ('AlterTableStmt' in node) this.alterTable(node.AlterTableStmt, flag, idempotent);
    else if ('RenameStmt' in node) this.rename(node.RenameStmt, flag, idempotent);
    else if ('AlterEnumStmt' in node) this.alterEnum(node.AlterEnumStmt, flag, idempotent);
    else if ('TransactionStmt' in node) flag('transaction-nesting', !this.noTransaction);
    else if ('CreateEnumStmt' in node) idempotent(false);
    else if ('CreateSeqStmt' in node) idempotent(node.CreateSeqStmt.if_not_exists === true);
    else if ('ViewStmt' in node) idempotent(node.ViewStmt.replace === true);
    else if ('CreateFunctionStmt' in node) idempotent(node.CreateFunctionStmt.replace === true);
    else if ('CreateTrigStmt' in node) idempotent(node.CreateTrigStmt.replace === true);
    else if ('CreateExtensionStmt' in node) idempotent(node.CreateExtensionStmt.if_not_exists === true);
    else if ('CreateSchemaStmt' in node) idempotent(node.CreateSchemaStmt.if_not_exists === true);
    return found;
  }

  private isNew(table: string) {
    return this.tables.has(table);
  }

  private index(statement: IndexStmt, flag: Flag, idempotent: Idempotent) {
    const table = relationKey(statement.relation);
    flag('concurrent-index-in-transaction', statement.concurrent === true && !this.noTransaction);
    flag('require-concurrent-index-creation', statement.concurrent !== true && !this.isNew(table));
    idempotent(statement.if_not_exists === true);
    if (statement.idxname)
      this.indexes.add(`${statement.relation?.schemaname ?? 'public'}.${statement.idxname}`);
  }

  private drop(statement: DropStmt, flag: Flag, idempotent: Idempotent) {
    idempotent(statement.missing_ok === true);
    const names = (statement.objects ?? []).map(nameKey);
    if (statement.removeType === 'OBJECT_INDEX') {
      flag('concurrent-index-in-transaction', statement.concurrent === true && !this.noTransaction);
      flag(
        'require-concurrent-index-deletion',
        statement.concurrent !== true && names.some((name) => !this.indexes.has(name)),
      );
    }
    if (statement.removeType === 'OBJECT_TABLE')
      flag(
        'ban-drop-table',
        names.some((name) => !this.isNew(name)),
      );
  }

  private alterTable(statement: AlterTableStmt, flag: Flag, idempotent: Idempotent) {
    const table = relationKey(statement.relation);
    const commands = (statement.cmds ?? []).flatMap((node) =>
      'AlterTableCmd' in node ? [node.AlterTableCmd] : [],
    );
    const droppedFirst = new Set<string>();
    for (const command of commands) {
      const existing = !this.isNew(table);
      const column = `${table}.${command.name ?? ''}`;
      const oldColumn = existing && !this.columns.has(column);
      switch (command.subtype) {
        case 'AT_AddColumn':
          this.addColumn(table, command, existing, flag, idempotent);
          break;
        case 'AT_DropColumn':
          idempotent(command.missing_ok === true);
          flag('ban-drop-column', oldColumn);
          break;
        case 'AT_AlterColumnType':
          flag('changing-column-type', oldColumn);
          break;
        case 'AT_SetNotNull':
          flag('setting-not-null', oldColumn && !this.provenNotNull.has(column));
          break;
        case 'AT_DropConstraint':
          idempotent(command.missing_ok === true);
          if (command.missing_ok && command.name) droppedFirst.add(command.name);
          break;
        case 'AT_AddConstraint':
          this.addConstraint(table, command, existing, droppedFirst, flag, idempotent);
          break;
        case 'AT_ValidateConstraint': {
          const key = `${table}.${command.name ?? ''}`;
          flag('constraint-missing-not-valid', this.notValid.has(key) && !this.noTransaction);
          const proven = this.notNullChecks.get(key);
          if (proven) this.provenNotNull.add(`${table}.${proven}`);
          break;
        }
      }
    }
  }

  private addColumn(
    table: string,
    command: AlterTableCmd,
    existing: boolean,
    flag: Flag,
    idempotent: Idempotent,
  ) {
    idempotent(command.missing_ok === true);
    const column = command.def && 'ColumnDef' in command.def ? command.def.ColumnDef : undefined;
    if (!column) return;
    this.columns.add(`${table}.${column.colname ?? ''}`);
    if (!existing) return;
    const constraints = constraintsOf(column);
    const has = (type: Constraint['contype']) => constraints.some((c) => c.contype === type);
    const serial = SERIAL_TYPES.has(stringsOf(column.typeName?.names).at(-1) ?? '');
    const defaultExpression = constraints.find((c) => c.contype === 'CONSTR_DEFAULT')?.raw_expr;
    const generatedStored = constraints.some(
      (c) => c.contype === 'CONSTR_GENERATED' && c.generated_kind !== 'v',
    );
    const fills = has('CONSTR_DEFAULT') || has('CONSTR_IDENTITY') || generatedStored || serial;
    flag('adding-not-nullable-field', (column.is_not_null === true || has('CONSTR_NOTNULL')) && !fills);
    flag('adding-volatile-default', serial || has('CONSTR_IDENTITY') || callsVolatile(defaultExpression));
    flag('adding-stored-generated-column', generatedStored);
    flag('disallowed-unique-constraint', has('CONSTR_PRIMARY') || has('CONSTR_UNIQUE'));
    flag('adding-foreign-key-constraint', has('CONSTR_FOREIGN'));
    flag('constraint-missing-not-valid', has('CONSTR_CHECK'));
  }

  private addConstraint(
    table: string,
    command: AlterTableCmd,
    existing: boolean,
    droppedFirst: Set<string>,
    flag: Flag,
    idempotent: Idempotent,
  ) {
    const constraint = command.def && 'Constraint' in command.def ? command.def.Constraint : undefined;
    if (!constraint) return;
    const name = constraint.conname ?? '';
    // re-adding what the same ALTER dropped IF EXISTS is safe to rerun, unless it takes over an index
    idempotent(droppedFirst.has(name) && !constraint.indexname);
    if (constraint.skip_validation) {
      this.notValid.add(`${table}.${name}`);
      const column = notNullColumn(constraint);
      if (column && constraint.contype === 'CONSTR_CHECK') this.notNullChecks.set(`${table}.${name}`, column);
    }
    if (!existing) return;
    const validated = constraint.skip_validation !== true;
    flag('adding-foreign-key-constraint', constraint.contype === 'CONSTR_FOREIGN' && validated);
    flag('constraint-missing-not-valid', constraint.contype === 'CONSTR_CHECK' && validated);
    flag(
      'disallowed-unique-constraint',
      (constraint.contype === 'CONSTR_UNIQUE' || constraint.contype === 'CONSTR_PRIMARY') &&
        !constraint.indexname,
    );
  }

  private rename(statement: RenameStmt, flag: Flag, idempotent: Idempotent) {
    idempotent(statement.missing_ok === true);
    const table = relationKey(statement.relation);
    if (statement.renameType === 'OBJECT_COLUMN') {
      flag('renaming-column', !this.isNew(table) && !this.columns.has(`${table}.${statement.subname ?? ''}`));
    }
    if (statement.renameType === 'OBJECT_TABLE') {
      flag('renaming-table', !this.isNew(table));
      if (this.isNew(table))
        this.tables.add(`${statement.relation?.schemaname ?? 'public'}.${statement.newname}`);
    }
  }

  private alterEnum(statement: AlterEnumStmt, flag: Flag, idempotent: Idempotent) {
    if (statement.oldVal !== undefined) {
      flag('renaming-enum-value');
      idempotent(false);
    } else {
      idempotent(statement.skipIfNewValExists === true);
    }
  }
}

type Flag = (rule: LintRuleId, when?: boolean) => void;
type Idempotent = (when: boolean) => void;
