DROP TABLE "user_preferences" CASCADE;
--> statement-breakpoint
DROP TABLE "users" CASCADE;
