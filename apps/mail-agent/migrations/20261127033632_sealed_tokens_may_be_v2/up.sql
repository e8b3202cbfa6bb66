-- sealed tokens may be v2
-- groundwork:allow constraint-missing-not-valid the checks are widened (v1 to v1 or v2) in the transaction that dropped the narrower ones, so no moment accepts a malformed token; every existing row passes; kept as applied
ALTER TABLE "users" DROP CONSTRAINT "users_gmail_oauth_token_sealed";
--> statement-breakpoint
ALTER TABLE "users" DROP CONSTRAINT "users_gmail_refresh_token_sealed";
--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_gmail_oauth_token_sealed" CHECK ("gmail_oauth_token" ~ '^v[12]\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$');
--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_gmail_refresh_token_sealed" CHECK ("gmail_refresh_token" ~ '^v[12]\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$');
