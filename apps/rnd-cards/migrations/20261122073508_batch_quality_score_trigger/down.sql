-- The aggregate columns stay (they belong to create_core_tables); they just stop being maintained.
DROP TRIGGER IF EXISTS update_batch_quality_score ON projects;
--> statement-breakpoint
DROP FUNCTION IF EXISTS update_batch_quality_score();
--> statement-breakpoint
DROP FUNCTION IF EXISTS refresh_batch_aggregates(uuid);
