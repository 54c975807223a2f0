-- A search's totalCount that reads the matching titles, not the matching
-- vehicles. Titles repeat ("2019 Toyota Land Cruiser" is many vehicles), so
-- the live vehicles are also counted per (organization, stage, title), kept
-- by a trigger as vehicle_counts is (migration 0011). At 20,000 vehicles,
-- counting the 2,500 that "toyo" matches re-read each of them: 2.5 ms of
-- PostgreSQL's CPU on every call, the one read of a search that grew with
-- the organization.
--
-- The search reads two columns instead of search_text (migration 0007): the
-- title and the identifiers, so that the vehicles a title does not account
-- for (a match in the VIN, stock number or customer name only) can be found
-- on their own. One line each, lower case, so that a case-insensitive
-- search is a plain LIKE of the lowered pattern. Adding them rewrites the
-- table once. search_text stays, without its index, while replicas of the
-- previous release may still search it during a rolling deploy; a later
-- migration drops it.
DROP INDEX vehicles_search_trgm;
ALTER TABLE vehicles
    ADD COLUMN search_title text NOT NULL GENERATED ALWAYS AS (lower(year::text || ' ' || make || ' ' || model)) STORED,
    ADD COLUMN search_ident text NOT NULL GENERATED ALWAYS AS (lower(coalesce(vin, '') || E'\n' || coalesce(stock_number, ''))) STORED;
-- Each trigram index leads with the organization (btree_gin, trusted like
-- pg_trgm), so that a search reads its own organization's matches only and
-- not every organization's before a filter drops them. The customers'
-- index of migration 0007 becomes one of these too.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX vehicles_title_trgm ON vehicles USING gin (organization_id, search_title gin_trgm_ops)
    WHERE deleted_at IS NULL;
CREATE INDEX vehicles_ident_trgm ON vehicles USING gin (organization_id, search_ident gin_trgm_ops)
    WHERE deleted_at IS NULL;
DROP INDEX customers_name_trgm;
CREATE INDEX customers_name_trgm ON customers USING gin (organization_id, name gin_trgm_ops);

CREATE TABLE vehicle_titles (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    stage           text NOT NULL,
    title           text NOT NULL, -- vehicles.search_title
    live            bigint NOT NULL CHECK (live >= 0),
    PRIMARY KEY (organization_id, stage, title)
);
CREATE INDEX vehicle_titles_trgm ON vehicle_titles USING gin (organization_id, title gin_trgm_ops);

-- As count_live_vehicles, per title: a vehicle leaves its old (stage, title)
-- when it was live and joins its new one when it is live. A move touches
-- the two rows one statement each, in key order, so that two opposite moves
-- wait for each other instead of each holding the row the other wants (one
-- UPDATE of both rows visits them in the heap's order, which every update
-- changes: db/vehicle_counts_test.go deadlocked within 600 changes). The
-- row a vehicle joins is an upsert, which also takes a row another
-- transaction has just deleted; the row it leaves still counts it, so no
-- one else deletes it meanwhile; it is deleted when it reaches 0, so the
-- rows are the titles the organization's live vehicles hold.
CREATE FUNCTION count_live_titles() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    org        uuid;
    left_stage text;
    left_title text;
    join_stage text;
    join_title text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        org := OLD.organization_id;
    ELSE
        org := NEW.organization_id;
        IF NEW.deleted_at IS NULL THEN
            join_stage := NEW.stage;
            join_title := NEW.search_title;
        END IF;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN
        left_stage := OLD.stage;
        left_title := OLD.search_title;
    END IF;
    IF left_stage IS NOT DISTINCT FROM join_stage AND left_title IS NOT DISTINCT FROM join_title THEN
        RETURN NULL;
    END IF;
    -- The row joined first unless it comes after the row left.
    IF join_stage IS NOT NULL AND (left_stage IS NULL OR (join_stage, join_title) < (left_stage, left_title)) THEN
        INSERT INTO vehicle_titles AS t (organization_id, stage, title, live) VALUES (org, join_stage, join_title, 1)
            ON CONFLICT (organization_id, stage, title) DO UPDATE SET live = t.live + 1;
        join_stage := NULL;
    END IF;
    IF left_stage IS NOT NULL THEN
        UPDATE vehicle_titles SET live = live - 1
            WHERE organization_id = org AND stage = left_stage AND title = left_title;
        DELETE FROM vehicle_titles
            WHERE organization_id = org AND stage = left_stage AND title = left_title AND live = 0;
    END IF;
    IF join_stage IS NOT NULL THEN
        INSERT INTO vehicle_titles AS t (organization_id, stage, title, live) VALUES (org, join_stage, join_title, 1)
            ON CONFLICT (organization_id, stage, title) DO UPDATE SET live = t.live + 1;
    END IF;
    RETURN NULL;
END
$$;

-- Both counters hold against deadlocks for transactions that change one
-- vehicle, as the store's do (a review's pgbench runs: 0 deadlocks in about
-- 180,000 such transactions). A statement or transaction that changes
-- several vehicles takes their counter rows in the order of the vehicles,
-- and two of them can deadlock: change vehicles one transaction each, or
-- retry on 40P01.
--
-- count_live_vehicles (migration 0011) moved a vehicle between stages the
-- same way, trusting the UPDATE's order: it now locks the two rows in key
-- order first too. The trigger that runs it (vehicles_count_live) fires
-- before vehicles_count_live_titles (triggers fire in name order), so every
-- move locks vehicle_counts before vehicle_titles.
CREATE OR REPLACE FUNCTION count_live_vehicles() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    org        uuid;
    left_stage text; -- the count the vehicle leaves
    join_stage text; -- the count it joins
BEGIN
    IF TG_OP = 'DELETE' THEN
        org := OLD.organization_id;
    ELSE
        org := NEW.organization_id;
        IF NEW.deleted_at IS NULL THEN
            join_stage := NEW.stage;
        END IF;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN
        left_stage := OLD.stage;
    END IF;
    IF left_stage IS NOT DISTINCT FROM join_stage THEN
        RETURN NULL;
    END IF;
    IF left_stage IS NULL THEN -- a new vehicle: one statement
        INSERT INTO vehicle_counts AS c (organization_id, stage, live) VALUES (org, join_stage, 1)
            ON CONFLICT (organization_id, stage) DO UPDATE SET live = c.live + 1;
    ELSIF join_stage IS NULL THEN -- a deleted one
        UPDATE vehicle_counts SET live = live - 1 WHERE organization_id = org AND stage = left_stage;
    ELSE -- a move between stages
        -- Lock what exists first: a stage's first vehicle finds no row to
        -- lock, and then no one moves a vehicle out of that stage.
        PERFORM FROM vehicle_counts WHERE organization_id = org AND stage IN (left_stage, join_stage)
            ORDER BY stage FOR UPDATE;
        INSERT INTO vehicle_counts (organization_id, stage, live) VALUES (org, join_stage, 0)
            ON CONFLICT DO NOTHING;
        UPDATE vehicle_counts SET live = live + CASE WHEN stage = join_stage THEN 1 ELSE -1 END
            WHERE organization_id = org AND stage IN (left_stage, join_stage);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER vehicles_count_live_titles AFTER INSERT OR DELETE OR UPDATE OF stage, deleted_at, year, make, model
    ON vehicles FOR EACH ROW EXECUTE FUNCTION count_live_titles();

-- Both counters are per organization: a vehicle never changes its own.
CREATE FUNCTION refuse_vehicle_org_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.organization_id IS DISTINCT FROM OLD.organization_id THEN
        RAISE EXCEPTION 'a vehicle cannot move to another organization: its counts would no longer match';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER vehicles_keep_organization BEFORE UPDATE OF organization_id ON vehicles
    FOR EACH ROW EXECUTE FUNCTION refuse_vehicle_org_change();

INSERT INTO vehicle_titles (organization_id, stage, title, live)
    SELECT organization_id, stage, search_title, count(*) FROM vehicles WHERE deleted_at IS NULL GROUP BY 1, 2, 3;
