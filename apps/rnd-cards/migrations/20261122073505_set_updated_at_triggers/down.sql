DROP TRIGGER IF EXISTS project_contents_set_updated_at ON project_contents;
--> statement-breakpoint
DROP TRIGGER IF EXISTS projects_set_updated_at ON projects;
--> statement-breakpoint
DROP TRIGGER IF EXISTS batches_set_updated_at ON batches;
--> statement-breakpoint
DROP TRIGGER IF EXISTS users_set_updated_at ON users;
--> statement-breakpoint
DROP FUNCTION IF EXISTS rnd_cards_set_updated_at();
