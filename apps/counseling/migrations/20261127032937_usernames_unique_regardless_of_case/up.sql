-- usernames unique regardless of case
-- Fails, changing nothing, while two usernames differ only in case: rename or merge those accounts first.
DROP INDEX "idx_users_username";
--> statement-breakpoint
CREATE UNIQUE INDEX "idx_users_username_lower" ON "users" USING btree (lower("username"));
