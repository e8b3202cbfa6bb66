DROP TABLE "authors" CASCADE;
--> statement-breakpoint
DROP TABLE "notes" CASCADE;
