-- created_at indexes in PostgreSQL's DESC order
-- groundwork:allow require-concurrent-index-deletion each index is replaced under its own name in one transaction, so list queries never run without it; kept as applied
-- groundwork:allow require-concurrent-index-creation built in the transaction that drops the index it replaces (see above): writes to batches wait for the build; kept as applied
DROP INDEX "idx_batches_user_id_created_at";
--> statement-breakpoint
DROP INDEX "idx_batches_created_at";
--> statement-breakpoint
CREATE INDEX "idx_batches_user_id_created_at" ON "batches" USING btree ("user_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);
--> statement-breakpoint
CREATE INDEX "idx_batches_created_at" ON "batches" USING btree ("created_at" DESC NULLS FIRST);
