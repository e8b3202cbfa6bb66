DROP TRIGGER IF EXISTS users_set_updated_at ON "users";
--> statement-breakpoint
DROP FUNCTION IF EXISTS learnr_set_updated_at();
--> statement-breakpoint
DROP TABLE "users" CASCADE;
