import type { BlockingSession } from './locks.ts';

/** A migration command refused or failed; the message says what happened, where, and what to do. */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/**
 * A migration gave up waiting for a lock after its retries: it is not applied (or, downgrading, not
 * reverted), and the message names the sessions that held the lock.
 */
export class MigrationLockTimeoutError extends MigrationError {
  /** The migration's folder name. */
  readonly migration: string;
  /** Attempts made, each ended by the lock timeout. */
  readonly attempts: number;
  /** The blocking sessions seen just before the last timeout (empty when none could be seen). */
  readonly blockers: BlockingSession[];

  constructor(message: string, migration: string, attempts: number, blockers: BlockingSession[]) {
    super(message);
    this.name = 'MigrationLockTimeoutError';
    this.migration = migration;
    this.attempts = attempts;
    this.blockers = blockers;
  }
}
