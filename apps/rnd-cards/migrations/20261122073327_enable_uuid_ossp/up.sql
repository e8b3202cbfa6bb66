-- enable uuid-ossp
-- Every id defaults to uuid_generate_v4(), so the extension must exist before the tables.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
