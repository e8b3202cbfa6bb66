import { type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { z } from 'zod';
import { safeText } from '../http/input.ts';

/**
 * Control (Cc), format (Cf: zero-width characters, bidirectional overrides), unassigned (Cn), private-use
 * (Co) and surrogate (Cs) code points: invisible or undefined, they let one name pose as another.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cn}\p{Co}\p{Cs}]/u;

/** The problem of an account name, or undefined. `name` is already NFKC. */
export function accountNameProblem(name: string): string | undefined {
  if (HIDDEN.test(name)) {
    return 'must not contain control, invisible (zero-width, bidirectional) or unassigned characters';
  }
  return undefined;
}

/**
 * An account name as one identity: Unicode NFKC (full-width and compatibility look-alikes become their plain
 * form), hidden characters refused. Chain `.max()`/`.regex()` after it. Letter case is left as typed (for
 * display) and folded by `foldedName` only, the rule of both the unique index and the login lookup.
 */
export function accountName() {
  return safeText()
    .normalize('NFKC')
    .check((context) => {
      // A NUL or a lone surrogate is safeText's refusal already: one message a field.
      if (context.issues.length > 0) return;
      const problem = accountNameProblem(context.value);
      if (problem) context.issues.push({ code: 'custom', message: problem, input: context.value });
    }) as z.ZodString;
}

/**
 * The one case-folding rule for account names: PostgreSQL's `lower()` on the stored name, used by the unique
 * index (`uniqueIndex(...).on(foldedName(t.username))`) and by the lookup (`sameName`). The application never
 * folds case itself, so what registers is what logs in whatever the runtime's and the database's Unicode data.
 */
export const foldedName = (column: PgColumn | SQL): SQL => sql`lower(${column})`;

/** The lookup of a name typed in any case: the unique index's expression against the same rule on the input. */
export const sameName = (column: PgColumn, name: string): SQL =>
  sql`${foldedName(column)} = lower(${name.normalize('NFKC')})`;
