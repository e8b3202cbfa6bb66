-- users listed newest first by index
-- groundwork:allow require-concurrent-index-creation kept as applied: written before Groundwork generated CREATE INDEX CONCURRENTLY; writes to users wait for the build
CREATE INDEX "idx_users_created_at_id" ON "users" USING btree ("created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);
