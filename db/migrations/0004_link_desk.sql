-- The link desk (issue 11): what happened to each link, how often it was
-- opened, and links that retire themselves after delivery.

-- Days after DELIVERED that a vehicle's link stops working; NULL: never.
ALTER TABLE organizations ADD COLUMN link_expiry_days_after_delivery integer
    CHECK (link_expiry_days_after_delivery BETWEEN 1 AND 365);

-- Opens by real clients, added up in batches (open_count = open_count + n)
-- so that several replicas add up; who opened is never stored.
ALTER TABLE tracking_links
    ADD COLUMN open_count      bigint NOT NULL DEFAULT 0 CHECK (open_count >= 0),
    ADD COLUMN first_opened_at timestamptz,
    ADD COLUMN last_opened_at  timestamptz;

-- The org-wide list, newest first.
CREATE INDEX tracking_links_org_created_idx ON tracking_links (organization_id, created_at DESC, id DESC);

-- The history of each link, written in the transaction of the change it
-- records. Append-only: the triggers below refuse every UPDATE, DELETE and
-- TRUNCATE, whoever asks.
CREATE TABLE tracking_link_events (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    link_id  uuid NOT NULL REFERENCES tracking_links (id),
    kind     text NOT NULL CHECK (kind IN ('CREATED', 'UPDATED', 'REVOKED', 'REGENERATED',
                                           'VEHICLE_DELETED', 'EXPIRY_SET_ON_DELIVERY')),
    at       timestamptz NOT NULL DEFAULT now(),
    -- NULL: the system did it.
    actor_id uuid REFERENCES users (id),
    -- For UPDATED, the option names that changed; empty otherwise.
    changed  text[] NOT NULL DEFAULT '{}',
    CHECK (kind = 'UPDATED' OR cardinality(changed) = 0)
);
CREATE INDEX tracking_link_events_link_idx ON tracking_link_events (link_id, at, id);

CREATE FUNCTION tracking_link_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tracking_link_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER tracking_link_events_no_update BEFORE UPDATE OR DELETE ON tracking_link_events
    FOR EACH ROW EXECUTE FUNCTION tracking_link_events_append_only();
CREATE TRIGGER tracking_link_events_no_truncate BEFORE TRUNCATE ON tracking_link_events
    FOR EACH STATEMENT EXECUTE FUNCTION tracking_link_events_append_only();

-- Links made before this migration get the history their rows tell.
INSERT INTO tracking_link_events (link_id, kind, at, actor_id)
SELECT id, 'CREATED', created_at, created_by FROM tracking_links;
INSERT INTO tracking_link_events (link_id, kind, at)
SELECT id, end_reason, ended_at FROM tracking_links WHERE ended_at IS NOT NULL;
