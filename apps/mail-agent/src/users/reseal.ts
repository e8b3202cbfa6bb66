import { type Database, type KeyRing, reseal, SecretError } from 'groundwork-pg';
import type * as schema from '../schema.ts';
import { tokenPlace } from './gmail-tokens.ts';
import { createUsersRepository, type SealedTokens } from './repository.ts';

export interface ResealReport {
  keyId: string;
  /** Users whose tokens now use the current key. */
  resealed: number;
  /** Users whose tokens changed while this ran (left to the next run if still old). */
  changedMeanwhile: number;
  /** Users whose tokens could not be opened; never carried forward. Ids only, never values. */
  failed: { id: number; reason: string }[];
  batches: number;
}

export interface ResealOptions {
  db: Database<typeof schema>;
  ring: KeyRing;
  batchSize?: number;
  log?: (line: string) => void;
}

/**
 * Re-seals every stored Gmail token under the ring's current key in the v2 format bound to its row and
 * column (v1 values are upgraded), one transaction per batch. Resumable: only rows with a token not yet in
 * that form are selected, so a rerun after an interruption continues
 * where the last committed batch ended. Safe to run while the app serves: each update applies only if the
 * row still holds the values that were opened.
 */
export async function resealGmailTokens({
  db,
  ring,
  batchSize = 500,
  log = () => {},
}: ResealOptions): Promise<ResealReport> {
  const users = createUsersRepository(db);
  const keyId = ring.current.id;
  const report: ResealReport = { keyId, resealed: 0, changedMeanwhile: 0, failed: [], batches: 0 };
  const total = await users.countSealedOutside({ keyId });
  log(`re-sealing Gmail tokens under key "${keyId}": ${total} user(s) to go, ${batchSize} per batch`);
  let after = 0;
  for (;;) {
    const batch = await users.listSealedOutside({ keyId, after, limit: batchSize });
    if (batch.length === 0) break;
    after = batch.at(-1)!.id;
    const moves: { id: number; from: SealedTokens; to: SealedTokens }[] = [];
    for (const row of batch) {
      const from = { accessToken: row.accessToken, refreshToken: row.refreshToken };
      try {
        moves.push({
          id: row.id,
          from,
          to: {
            accessToken:
              from.accessToken === null
                ? null
                : reseal(ring, from.accessToken, tokenPlace(row.id, 'accessToken')),
            refreshToken:
              from.refreshToken === null
                ? null
                : reseal(ring, from.refreshToken, tokenPlace(row.id, 'refreshToken')),
          },
        });
      } catch (error) {
        if (!(error instanceof SecretError)) throw error;
        report.failed.push({ id: row.id, reason: error.message });
      }
    }
    let moved = 0;
    await db.transaction(async (tx) => {
      for (const move of moves) if (await users.replaceSealedTokens(move, tx)) moved++;
    });
    report.batches++;
    report.resealed += moved;
    report.changedMeanwhile += moves.length - moved;
    log(
      `batch ${report.batches}: ${moved} re-sealed, ${moves.length - moved} changed meanwhile, ` +
        `${batch.length - moves.length} failed (users up to id ${after}); ` +
        `${report.resealed + report.changedMeanwhile + report.failed.length}/${total} done`,
    );
  }
  for (const failure of report.failed) log(`user ${failure.id}: ${failure.reason}`);
  log(
    `done: ${report.resealed} re-sealed, ${report.changedMeanwhile} changed meanwhile, ` +
      `${report.failed.length} failed`,
  );
  return report;
}
