-- Staff lists that cost the same at 20,000 vehicles as at 60: every page,
-- count and search of vehicles(...) is served by an index (db/vehicles.go
-- says which; db/vehicles_plan_test.go holds it).

-- Trigram indexes serve LIKE and ILIKE '%…%' (trusted: the database owner may
-- create it without being a superuser).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The text a search matches as a part of a vehicle itself: its title
-- ("2019 Toyota Land Cruiser": year, make and model), VIN and stock
-- number, one per line so that a match never spans two of them; lower case,
-- so that a case-insensitive search is a plain LIKE of the lowered pattern.
-- Stored: checking a trigram match re-reads it rather than recomputing it
-- (a count of 2,500 matches at twice the speed). Adding it rewrites the
-- table once.
ALTER TABLE vehicles ADD COLUMN search_text text NOT NULL GENERATED ALWAYS AS (
    lower(year::text || ' ' || make || ' ' || model || E'\n' || coalesce(vin, '') || E'\n' || coalesce(stock_number, ''))
) STORED;
CREATE INDEX vehicles_search_trgm ON vehicles USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL;
-- Customer names are searched too: their matches, then their vehicles.
CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops);
CREATE INDEX vehicles_customer_idx ON vehicles (customer_id) WHERE deleted_at IS NULL;

-- A search that is exactly a VIN (stored upper case) or a stock number
-- (any case) is answered by these before any trigram is looked at.
CREATE INDEX vehicles_vin_idx ON vehicles (organization_id, vin) WHERE deleted_at IS NULL;
CREATE INDEX vehicles_stock_number_idx ON vehicles (organization_id, lower(stock_number)) WHERE deleted_at IS NULL;

-- Pages of one stage, by keyset; vehicles_page_idx serves those of every
-- stage.
CREATE INDEX vehicles_stage_page_idx ON vehicles (organization_id, stage, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
-- Counts, of every stage or one, by an index-only scan: its keys repeat,
-- so deduplication keeps it to a few pages per ten thousand vehicles, read
-- faster than the table or the page indexes (and chosen over a sequential
-- scan even when one organization holds every row).
CREATE INDEX vehicles_count_idx ON vehicles (organization_id, stage) WHERE deleted_at IS NULL;
