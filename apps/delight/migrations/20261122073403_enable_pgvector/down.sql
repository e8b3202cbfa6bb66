-- Reverse of 20261122073403_enable_pgvector.
-- No CASCADE: if anything outside these migrations uses vector, the downgrade stops instead of dropping it.
DROP EXTENSION IF EXISTS vector;
