-- sealed tokens may be v2 (down)
-- Fails while any token is sealed in v2 (the code before this migration cannot open those): run it only
-- together with that code, after clearing the v2 tokens, whose users then reconnect Gmail.
ALTER TABLE "users" DROP CONSTRAINT "users_gmail_oauth_token_sealed";
--> statement-breakpoint
ALTER TABLE "users" DROP CONSTRAINT "users_gmail_refresh_token_sealed";
--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_gmail_oauth_token_sealed" CHECK ("gmail_oauth_token" ~ '^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$');
--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_gmail_refresh_token_sealed" CHECK ("gmail_refresh_token" ~ '^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$');
