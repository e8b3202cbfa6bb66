-- add updated_at triggers
-- updated_at is the database's job: every UPDATE (including INSERT ... ON CONFLICT DO UPDATE) sets it,
-- whatever the writer sent, so no code path can forget it or fake it.
CREATE FUNCTION delight_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION delight_set_updated_at();
--> statement-breakpoint
CREATE TRIGGER user_preferences_set_updated_at BEFORE UPDATE ON user_preferences
  FOR EACH ROW EXECUTE FUNCTION delight_set_updated_at();
