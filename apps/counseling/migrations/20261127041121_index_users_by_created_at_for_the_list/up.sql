-- index users by created_at for the list
CREATE INDEX "idx_users_created_at" ON "users" USING btree ("created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);
