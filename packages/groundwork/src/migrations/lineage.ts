import { existsSync, readFileSync } from 'node:fs';
import { emptySnapshot, type Snapshot, type SnapshotSchema } from './diff.ts';
import { type Migration, MigrationFolderError, readSnapshot } from './folder.ts';

/**
 * Each snapshot.json names its own id and its parent's (`prevId`; a merge revision lists all its parents in
 * `prevIds`), so the folder is a graph: two migrations generated from the same parent on two branches are
 * two heads until a merge revision joins them.
 */
export interface Lineage {
  /** Snapshot id and parent ids of each migration that has a snapshot, by migration id. */
  nodes: Map<string, { id: string; parents: string[] }>;
  /** Migrations no other migration follows; more than one means unmerged branches. */
  heads: Migration[];
  /** Migrations whose parent snapshot no migration in the folder has: the one before them is missing. */
  gaps: Migration[];
}

export const parentsOf = (snapshot: Snapshot): string[] =>
  Array.isArray(snapshot.prevIds) ? snapshot.prevIds : snapshot.prevId ? [snapshot.prevId] : [];

const TOP_LEVEL_ID = /^ {2}"(id|prevId)": "([^"]*)"/gm;
const TOP_LEVEL_PREV_IDS = /^ {2}"prevIds": \[([^\]]*)\]/m;

/**
 * A snapshot's id and parents. Snapshots are written indented by two spaces, so the top-level keys are
 * found without parsing the whole schema (a 100-migration history is megabytes of JSON); anything else is
 * parsed.
 */
function identityOf(migration: Migration): { id: string; parents: string[] } | undefined {
  if (!existsSync(migration.snapshotFile)) return undefined;
  const text = readFileSync(migration.snapshotFile, 'utf8');
  const keys = Object.fromEntries([...text.matchAll(TOP_LEVEL_ID)].map((m) => [m[1], m[2]]));
  const prevIds = TOP_LEVEL_PREV_IDS.exec(text);
  if (keys.id && (keys.prevId || prevIds)) {
    const parents = prevIds ? (JSON.parse(`[${prevIds[1]}]`) as string[]) : [keys.prevId!];
    return { id: keys.id, parents };
  }
  const snapshot = readSnapshot(migration)!;
  return { id: snapshot.id, parents: parentsOf(snapshot) };
}

export function readLineage(migrations: Migration[]): Lineage {
  const nodes = new Map<string, { id: string; parents: string[] }>();
  for (const migration of migrations) {
    const identity = identityOf(migration);
    if (identity) nodes.set(migration.id, identity);
  }
  const followed = new Set([...nodes.values()].flatMap((node) => node.parents));
  const heads = migrations.filter((m) => {
    const node = nodes.get(m.id);
    return node !== undefined && !followed.has(node.id);
  });
  const known = new Set([emptySnapshot().id, ...[...nodes.values()].map((node) => node.id)]);
  const gaps = migrations.filter((m) => nodes.get(m.id)?.parents.some((parent) => !known.has(parent)));
  return { nodes, heads, gaps };
}

/**
 * The error text for a hole in the chain, naming the migrations after it; undefined without one. A deleted
 * migration folder also leaves its parent without a child, which would read as a second head.
 */
export function gapProblem(lineage: Lineage): string | undefined {
  if (lineage.gaps.length === 0) return undefined;
  return (
    `a migration is missing from the folder: ${lineage.gaps.map((m) => m.name).join(' and ')} ` +
    `follow${lineage.gaps.length === 1 ? 's' : ''} a snapshot no migration in the folder has (its folder was deleted, ` +
    'or is not in this checkout). Restore it from version control'
  );
}

/**
 * The error text for unmerged branches, naming every head; undefined when there is one head. With a hole in
 * the chain the heads cannot be told, so the hole is what it reports (gapProblem).
 */
export function headsProblem(lineage: Lineage): string | undefined {
  const gap = gapProblem(lineage);
  if (gap) return gap;
  if (lineage.heads.length < 2) return undefined;
  return (
    `the migrations have ${lineage.heads.length} heads: ${lineage.heads.map((m) => m.name).join(' and ')}. ` +
    'Two branches each added a migration from the same parent. Run: revision --merge -m "merge branches", ' +
    'then upgrade'
  );
}

/** Snapshot ids of `snapshotId` and everything before it. */
function ancestry(lineage: Lineage, snapshotId: string): string[] {
  const parents = new Map([...lineage.nodes.values()].map((node) => [node.id, node.parents]));
  const seen: string[] = [];
  const queue = [snapshotId];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.includes(id)) continue;
    seen.push(id);
    queue.push(...(parents.get(id) ?? []));
  }
  return seen;
}

/**
 * A pending migration older than the applied head may run late when it came from a merged branch: it is
 * an ancestor of a merge revision and of no applied migration (nothing applied was built on it).
 */
export function fromMergedBranch(lineage: Lineage, migration: Migration, applied: Migration[]): boolean {
  const node = lineage.nodes.get(migration.id);
  if (!node) return false;
  const merges = [...lineage.nodes.values()].filter((n) => n.parents.length > 1);
  const builtOn = (other: Migration) => {
    const otherNode = lineage.nodes.get(other.id);
    return otherNode !== undefined && ancestry(lineage, otherNode.id).includes(node.id);
  };
  return merges.some((merge) => ancestry(lineage, merge.id).includes(node.id)) && !applied.some(builtOn);
}

/**
 * The union of the heads' snapshots: a three-way merge against their nearest common ancestor, so an item
 * one branch removed stays removed. An item both branches changed differently is a conflict, named.
 */
export function mergeHeads(lineage: Lineage, migrations: Migration[]): SnapshotSchema {
  const snapshots = new Map<string, Snapshot>();
  for (const migration of migrations) {
    const snapshot = readSnapshot(migration);
    if (snapshot) snapshots.set(snapshot.id, snapshot);
  }
  const heads = lineage.heads.map((m) => lineage.nodes.get(m.id)!.id);
  const ancestries = heads.map((id) => ancestry(lineage, id));
  const baseId = ancestries[0]!.find((id) => ancestries.every((a) => a.includes(id)));
  // No common ancestor: an empty base, so every item counts as added on both sides.
  const base: Snapshot | undefined = baseId ? snapshots.get(baseId) : undefined;
  const [first, ...rest] = heads.map((id) => schemaPart(snapshots.get(id)!));
  return rest.reduce(
    (merged, head) => mergeValue(base ? schemaPart(base) : {}, merged, head, []) as SnapshotSchema,
    first!,
  );
}

/** A snapshot without its identity (id, prevId, prevIds), which differs on every branch. */
function schemaPart(snapshot: Snapshot): SnapshotSchema {
  const { id: _id, prevId: _prevId, prevIds: _prevIds, ...schema } = snapshot;
  return schema;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function mergeValue(base: unknown, ours: unknown, theirs: unknown, path: string[]): unknown {
  if (same(ours, theirs) || same(base, theirs)) return ours;
  if (same(base, ours)) return theirs;
  if (isObject(ours) && isObject(theirs)) {
    const baseObject = isObject(base) ? base : {};
    const merged: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
      const value = mergeValue(baseObject[key], ours[key], theirs[key], [...path, key]);
      if (value !== undefined) merged[key] = value;
    }
    return merged;
  }
  throw new MigrationFolderError(
    `Both branches changed ${path.join('.')} differently; keep one change, regenerate the other branch's ` +
      'migration after it, then merge.',
  );
}
