import { describe, expect, it } from 'vitest';
import type { AppDefinition } from '../../app.ts';
import { generateKey } from '../../security/secrets.ts';
import { setupTestApp } from '../index.ts';
import { fuzzServer } from './run.ts';

export { emptyCounts, type FuzzCounts, FuzzFailure, type FuzzOptions, fuzzServer } from './run.ts';

/** The seed every run uses unless FUZZ_SEED says otherwise (a failure prints the one it used). */
export const DEFAULT_FUZZ_SEED = 20261127;

export const fuzzSeed = () => (process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : DEFAULT_FUZZ_SEED);

/**
 * The shared hostile-input contract, a seeded share of `npm run fuzz` inside `npm test`: `runs` generated
 * requests against the app's OpenAPI operations, with no 5xx, the error shape on every 4xx, no row changed
 * by a refused request and no secret echoed.
 */
export function describeHostileInput(
  app: AppDefinition,
  {
    runs = 500,
    skip,
  }: { runs?: number /** Why this backend cannot run the app (the block is skipped). */; skip?: string } = {},
): void {
  describe.skipIf(skip !== undefined)(`${app.name} hostile input${skip ? ` (${skip})` : ''}`, () => {
    const key = generateKey('fuzz');
    const t = setupTestApp(app, { env: { SECRET_KEYS: key } });
    it(`answers ${runs} generated requests without a 5xx, a change by a refused one, or a break of its OpenAPI document`, async () => {
      const counts = await fuzzServer(t.server, t.handle, {
        seed: fuzzSeed(),
        runs,
        secrets: [key.slice(key.indexOf(':') + 1)],
      });
      expect(counts).toMatchObject({
        requests: runs,
        serverErrors: 0,
        refusedChangedRows: 0,
        undocumentedStatuses: 0,
        schemaMismatches: 0,
        validRefused: 0,
      });
      // The generator aims most requests at breaking one part; enough must be valid for the document's word.
      expect(counts.validByDocument).toBeGreaterThanOrEqual(Math.floor(runs / 10));
    }, 120_000);
  });
}
