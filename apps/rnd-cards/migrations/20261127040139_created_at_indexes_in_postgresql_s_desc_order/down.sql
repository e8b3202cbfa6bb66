DROP INDEX "idx_batches_user_id_created_at";
--> statement-breakpoint
DROP INDEX "idx_batches_created_at";
--> statement-breakpoint
CREATE INDEX "idx_batches_user_id_created_at" ON "batches" USING btree ("user_id","created_at" DESC NULLS LAST);
--> statement-breakpoint
CREATE INDEX "idx_batches_created_at" ON "batches" USING btree ("created_at" DESC NULLS LAST);
