-- set updated_at triggers
-- updated_at is kept true by the database, whatever code (or psql session) writes the row.
CREATE OR REPLACE FUNCTION rnd_cards_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION rnd_cards_set_updated_at();
--> statement-breakpoint
CREATE TRIGGER batches_set_updated_at BEFORE UPDATE ON batches
  FOR EACH ROW EXECUTE FUNCTION rnd_cards_set_updated_at();
--> statement-breakpoint
CREATE TRIGGER projects_set_updated_at BEFORE UPDATE ON projects
  FOR EACH ROW EXECUTE FUNCTION rnd_cards_set_updated_at();
--> statement-breakpoint
CREATE TRIGGER project_contents_set_updated_at BEFORE UPDATE ON project_contents
  FOR EACH ROW EXECUTE FUNCTION rnd_cards_set_updated_at();
