-- +goose Up
-- Suspension: a suspended account cannot sign in or launch (NULL: not suspended). must_change_password: the next
-- sign-in must choose a new password first (the generated first admin, a password an admin set).
ALTER TABLE users ADD COLUMN suspended_at BIGINT;
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- The admin users search matches a part of username, name or email (ILIKE '%…%'), which only a trigram index
-- serves without reading every account. pg_trgm ships with PostgreSQL and is a trusted extension (13+), so the
-- database's owner may create it; where that is not allowed, search still works, by reading the table.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): the users search reads the whole users table', SQLERRM;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX users_search ON users USING gin ((username || ' ' || full_name || ' ' || email) gin_trgm_ops);
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS users_search;
ALTER TABLE users DROP COLUMN must_change_password;
ALTER TABLE users DROP COLUMN suspended_at;
