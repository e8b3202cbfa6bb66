DROP TABLE "sessions" CASCADE;
--> statement-breakpoint
DROP TABLE "users" CASCADE;
