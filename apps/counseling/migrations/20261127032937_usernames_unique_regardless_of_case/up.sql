-- usernames unique regardless of case
-- groundwork:allow require-concurrent-index-deletion the old unique index is swapped for its case-insensitive successor in one transaction, so no moment accepts duplicate usernames; kept as applied
-- groundwork:allow require-concurrent-index-creation built in the transaction that drops its predecessor (see above): writes to users wait for the build; kept as applied
-- Fails, changing nothing, while two usernames differ only in case: rename or merge those accounts first.
DROP INDEX "idx_users_username";
--> statement-breakpoint
CREATE UNIQUE INDEX "idx_users_username_lower" ON "users" USING btree (lower("username"));
