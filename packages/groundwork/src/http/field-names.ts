import { getTableColumns, getTableName, isTable } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';

/** Per table, each column's Drizzle property name (`cognito_sub` -> `cognitoSub`), read from the app's schema. */
export type ColumnNames = Map<string, Map<string, string>>;

export function columnNamesOf(schema: Record<string, unknown>): ColumnNames {
  const names: ColumnNames = new Map();
  for (const table of Object.values(schema)) {
    if (!isTable(table)) continue;
    const columns = new Map<string, string>();
    for (const [property, column] of Object.entries(getTableColumns(table)))
      columns.set(column.name, property);
    names.set(getTableName(table), columns);
  }
  return names;
}

type Def = { type: string; shape?: Record<string, z.ZodType>; [inner: string]: unknown };

/** Every object key a zod schema can hold, at any depth: the names the route's API spells. */
function collectKeys(schema: unknown, into: Set<string>, seen = new Set<unknown>()): void {
  const def = (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;
  if (!def || seen.has(schema)) return;
  seen.add(schema);
  if (def.shape)
    for (const [key, value] of Object.entries(def.shape)) {
      into.add(key);
      collectKeys(value, into, seen);
    }
  for (const inner of ['innerType', 'in', 'out', 'element', 'valueType', 'left', 'right'])
    collectKeys(def[inner], into, seen);
  for (const option of (def.options as unknown[] | undefined) ?? []) collectKeys(option, into, seen);
}

const routeKeys = new WeakMap<object, Set<string>>();

function keysOfRoute(request: FastifyRequest): Set<string> {
  const schema = request.routeOptions.schema as Record<string, unknown> | undefined;
  if (!schema) return new Set();
  let keys = routeKeys.get(schema);
  if (!keys) {
    keys = new Set();
    for (const part of [schema.body, schema.querystring, schema.params]) collectKeys(part, keys);
    for (const response of Object.values((schema.response as Record<string, unknown>) ?? {}))
      collectKeys(response, keys);
    routeKeys.set(schema, keys);
  }
  return keys;
}

/**
 * A column as the route's API spells it: the Drizzle property (`cognitoSub`) when the route's schemas use
 * that name, else the column name itself (APIs that speak snake_case, like the database).
 */
export function apiFieldName(
  request: FastifyRequest,
  names: ColumnNames | undefined,
  column: string,
  table: string | undefined,
): string {
  if (!names) return column;
  const candidates = table
    ? [names.get(table)?.get(column)]
    : [...names.values()].map((columns) => columns.get(column));
  const keys = keysOfRoute(request);
  if (keys.has(column)) return column;
  return candidates.find((property) => property !== undefined && keys.has(property)) ?? column;
}
