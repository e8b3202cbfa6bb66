DROP TRIGGER "users_set_updated_at" ON "users";
--> statement-breakpoint
DROP FUNCTION "counseling_set_updated_at"();
--> statement-breakpoint
DROP TABLE "users" CASCADE;
