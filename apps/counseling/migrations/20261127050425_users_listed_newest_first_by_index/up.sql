-- users listed newest first by index
CREATE INDEX "idx_users_created_at_id" ON "users" USING btree ("created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);
