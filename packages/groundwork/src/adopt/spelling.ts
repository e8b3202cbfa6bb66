import type { DatabaseHandle } from '../database/open.ts';
import { withSession } from '../database/sessions.ts';
import { catalogDefinitions } from '../migrations/catalog.ts';
import { diffSnapshots, emptySnapshot, type Snapshot, type SnapshotTable } from '../migrations/diff.ts';
import type { ShadowSource } from '../migrations/shadow.ts';
import { builtCatalog, extensionStatements } from './unexpressed.ts';

/** A place where schema.ts may spell SQL as the app's last snapshot does, and the object it decides. */
interface Respelling {
  /** The object as `check` names it. */
  object: string;
  apply(text: string): string;
}

/**
 * PostgreSQL prints a CHECK, an index expression or a view in its own words (`(is_blocked = true)`), which
 * are not the words schema.ts had (`"users"."is_blocked" = true`): autogenerate would see a change. Where the
 * app's last snapshot and the live database agree (a database built from the snapshot defines the object as
 * the live one does), the pulled schema.ts takes the snapshot's words.
 */
export async function withSnapshotSpelling(
  text: string,
  pulled: Snapshot,
  previous: Snapshot,
  live: DatabaseHandle,
  shadow: ShadowSource,
): Promise<string> {
  const respellings = [
    ...Object.entries(pulled.tables).flatMap(([key, table]) =>
      previous.tables[key] ? tableRespellings(table, previous.tables[key]) : [],
    ),
    ...viewRespellings(pulled, previous),
  ];
  if (respellings.length === 0) return text;
  const liveDefinitions = await withSession(live, catalogDefinitions);
  const { statements } = await diffSnapshots(emptySnapshot(), previous);
  const built = await builtCatalog(shadow, [...(await extensionStatements(live)), ...statements]);
  return respellings
    .filter(({ object }) => built.has(object) && built.get(object) === liveDefinitions.get(object))
    .reduce((current, { apply }) => apply(current), text);
}

const qualifier = (schema: string | undefined) => (schema && schema !== 'public' ? `${schema}.` : '');

function tableRespellings(table: SnapshotTable, previous: SnapshotTable): Respelling[] {
  const at = `${qualifier(table.schema)}${table.name}`;
  const checks = Object.values(table.checkConstraints).flatMap(({ name, value }) => {
    const before = previous.checkConstraints[name]?.value;
    if (before === undefined || before === value) return [];
    return [
      {
        object: `constraint ${at}.${name}`,
        apply: (text: string) =>
          text.replace(
            new RegExp(`(check\\(${quotedName(name)}, )sql\`(?:[^\`\\\\]|\\\\.)*\``),
            (_, start: string) => `${start}${sqlTemplate(before)}`,
          ),
      },
    ];
  });
  const indexes = Object.values(table.indexes).flatMap((index) => {
    const before = previous.indexes[index.name];
    if (!before) return [];
    const words = (i: typeof index) => [
      ...i.columns.filter((column) => column.isExpression).map((column) => column.expression),
      ...(i.where ? [i.where] : []),
    ];
    const now = words(index);
    const then = words(before);
    if (now.length !== then.length || now.every((word, i) => word === then[i])) return [];
    return [
      {
        object: `index ${qualifier(table.schema)}${index.name}`,
        apply: (text: string) =>
          text.replace(
            new RegExp(`\\b(?:uniqueIndex|index)\\(${quotedName(index.name)}\\)[^\\n]*`),
            (line) => {
              let n = 0;
              return line.replace(SQL_TEMPLATE, () => sqlTemplate(then[n++]!));
            },
          ),
      },
    ];
  });
  const columns = Object.values(table.columns).flatMap((column) => {
    const before = previous.columns[column.name];
    if (!before || JSON.stringify(before.default) === JSON.stringify(column.default)) return [];
    return [
      {
        object: `column ${at}.${column.name}`,
        apply: (text: string) => withColumnDefault(text, table.name, column.name, before.default),
      },
    ];
  });
  return [...checks, ...indexes, ...columns];
}

/** A column line of drizzle-kit's output: `\tkey: type("db_name", ...)...` (no name when it is the key). */
const COLUMN_LINE = /^\t(\w+): \w+\((?:"([^"]+)")?/;
/** `.default(...)`, `.defaultNow()`, `.defaultRandom()` on a column line. */
const DEFAULT_CALL = /\.default(?:Now|Random)?\(/;

/** The column's line in the table's block with its default in the snapshot's SQL (or none). */
function withColumnDefault(text: string, table: string, column: string, value: unknown): string {
  const start = text.indexOf(`pgTable(${quotedName(table)}, {`);
  if (start < 0) return text;
  const lines = text.slice(start).split('\n');
  const at = lines.findIndex((line) => {
    const m = COLUMN_LINE.exec(line);
    return m && (m[2] ?? m[1]) === column;
  });
  if (at < 0) return text;
  const line = lines[at]!;
  // a snapshot keeps a number or boolean default as such (`.default(0)`) and anything else as SQL
  const replacement =
    value === undefined
      ? ''
      : `.default(${typeof value === 'string' ? sqlTemplate(value) : JSON.stringify(value)})`;
  const call = DEFAULT_CALL.exec(line);
  lines[at] = call
    ? `${line.slice(0, call.index)}${replacement}${line.slice(closingParen(line, call.index + call[0].length) + 1)}`
    : line.replace(/,$/, `${replacement},`);
  return text.slice(0, start) + lines.join('\n');
}

/** Index of the `)` closing the call whose arguments start at `from`, skipping quoted text. */
function closingParen(line: string, from: number): number {
  let depth = 1;
  let quote: string | undefined;
  for (let i = from; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"' || char === '`') quote = char;
    else if (char === '(') depth++;
    else if (char === ')' && --depth === 0) return i;
  }
  return line.length - 1;
}

function viewRespellings(pulled: Snapshot, previous: Snapshot): Respelling[] {
  type View = { name: string; schema?: string; definition?: string };
  return Object.entries(pulled.views as Record<string, View>).flatMap(([key, view]) => {
    const before = (previous.views as Record<string, View>)[key]?.definition;
    if (!before || !view.definition || before === view.definition) return [];
    return [
      {
        object: `view ${qualifier(view.schema)}${view.name}`,
        apply: (text: string) =>
          text.replace(
            new RegExp(`(pgView\\(${quotedName(view.name)}[\\s\\S]*?\\.as\\()sql\`(?:[^\`\\\\]|\\\\.)*\``),
            (_, start: string) => `${start}${sqlTemplate(before)}`,
          ),
      },
    ];
  });
}

const SQL_TEMPLATE = /sql`(?:[^`\\]|\\.)*`/g;
const quotedName = (name: string) => `"${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`;
/** SQL as a sql`...` template whose cooked text is exactly `sql`. */
const sqlTemplate = (sql: string) =>
  `sql\`${sql.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${')}\``;
