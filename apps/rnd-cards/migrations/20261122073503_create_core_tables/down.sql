DROP TABLE "batches" CASCADE;
--> statement-breakpoint
DROP TABLE "generation_metadata" CASCADE;
--> statement-breakpoint
DROP TABLE "project_contents" CASCADE;
--> statement-breakpoint
DROP TABLE "projects" CASCADE;
--> statement-breakpoint
DROP TABLE "users" CASCADE;
