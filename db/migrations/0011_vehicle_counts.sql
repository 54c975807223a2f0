-- The live vehicles of each organization and stage, kept by a trigger, so
-- that the list's totalCount (without a search) reads at most one row per
-- stage instead of every vehicle: at 20,000 vehicles the index-only count
-- was 1.6 ms of PostgreSQL's CPU on every list call, the one read of a
-- page that grew with the organization. A search still counts its matches.
CREATE TABLE vehicle_counts (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    stage           text NOT NULL,
    live            bigint NOT NULL CHECK (live >= 0),
    PRIMARY KEY (organization_id, stage)
);

-- A vehicle leaves its old (organization, stage) count when it was live and
-- joins its new one when it is live. A move changes both rows in one
-- UPDATE, which locks them in the primary key's order: two transactions
-- that move vehicles between the same two stages in opposite directions
-- wait for each other instead of deadlocking. Concurrent creations in one
-- stage wait for each other's commit on its row (each is a transaction of
-- one statement, create_vehicle of migration 0010).
CREATE FUNCTION count_live_vehicles() RETURNS trigger LANGUAGE plpgsql AS $$
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
        INSERT INTO vehicle_counts (organization_id, stage, live) VALUES (org, join_stage, 0)
            ON CONFLICT DO NOTHING;
        UPDATE vehicle_counts SET live = live + CASE WHEN stage = join_stage THEN 1 ELSE -1 END
            WHERE organization_id = org AND stage IN (left_stage, join_stage);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER vehicles_count_live AFTER INSERT OR DELETE OR UPDATE OF stage, deleted_at ON vehicles
    FOR EACH ROW EXECUTE FUNCTION count_live_vehicles();

-- TRUNCATE fires no row trigger: it would leave the counts behind.
CREATE FUNCTION refuse_vehicles_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'vehicles cannot be truncated: vehicle_counts would no longer match';
END
$$;
CREATE TRIGGER vehicles_no_truncate BEFORE TRUNCATE ON vehicles
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_vehicles_truncate();

INSERT INTO vehicle_counts (organization_id, stage, live)
    SELECT organization_id, stage, count(*) FROM vehicles WHERE deleted_at IS NULL GROUP BY 1, 2;
