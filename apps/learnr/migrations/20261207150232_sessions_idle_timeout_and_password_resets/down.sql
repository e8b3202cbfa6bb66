DROP TABLE "auth_password_resets";
--> statement-breakpoint
ALTER TABLE "auth_sessions" DROP COLUMN "last_seen_at";
