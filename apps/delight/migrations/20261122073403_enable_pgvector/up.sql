-- enable pgvector
-- Delight stores embeddings (story 2.1), so the database must have pgvector from the first migration on.
-- Checked first so a server without it fails here, inside this migration's transaction (nothing applied),
-- with a message saying how to get it instead of PostgreSQL's bare "could not open extension control file".
DO $$
DECLARE
  major int := current_setting('server_version_num')::int / 10000;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    RAISE EXCEPTION 'the PostgreSQL extension "vector" (pgvector) is not installed on this PostgreSQL % server; install the OS package postgresql-%-pgvector (Debian/Ubuntu apt, RHEL dnf pgvector_%) or use a provider that ships pgvector (Supabase, Neon, RDS, Cloud SQL), then run upgrade again', major, major, major
      USING ERRCODE = 'feature_not_supported',
            HINT = 'https://github.com/pgvector/pgvector#installation';
  END IF;
END
$$;
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS vector;
