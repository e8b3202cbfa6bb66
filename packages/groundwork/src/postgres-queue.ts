/**
 * `node --import groundwork-pg/postgres-queue your-server.js`: for a program that opens pools without the
 * `groundwork` CLI (which does this itself), postgres.js's pools get a queue that stays bounded under load
 * (adapters/postgres-queue.ts). It must run before postgres.js is first imported.
 */
import { registerPostgresQueue } from './adapters/postgres-queue.ts';

registerPostgresQueue();
