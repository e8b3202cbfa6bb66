-- Reverse of add_updated_at_triggers.
DROP TRIGGER IF EXISTS user_preferences_set_updated_at ON user_preferences;
--> statement-breakpoint
DROP TRIGGER IF EXISTS users_set_updated_at ON users;
--> statement-breakpoint
DROP FUNCTION IF EXISTS delight_set_updated_at();
