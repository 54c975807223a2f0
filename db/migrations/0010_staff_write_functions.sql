-- The statements of every staff request and of the two mutations that
-- seed an organization (createVehicle, createTrackingLink) as functions,
-- so that PostgreSQL plans each once per connection instead of on every
-- call. The server sends every statement unnamed (no named prepared
-- statement: it runs behind PgBouncer in transaction pooling), so a plain
-- statement is parsed and planned each time; measured with pgbench (8
-- clients, -M extended against -M prepared), planning was about half of
-- PostgreSQL's CPU per mutation. PL/pgSQL keeps a function's plans for the
-- life of the connection; force_generic_plan keeps the one generic plan
-- (each of these has a single good plan: primary keys and unique keys)
-- rather than re-planning whenever a custom plan's estimate looks better.
-- The callers select explicit columns from them (db/users.go,
-- db/vehicles.go, db/links.go).

-- THE expiry after delivery: now plus the organization's
-- linkExpiryDaysAfterDelivery (db.deliveryExpiry, create_tracking_link).
-- A plain SQL expression, inlined where it is used.
CREATE FUNCTION link_delivery_expiry(days integer) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN now() + make_interval(days => days);

-- The member a live bearer token (its SHA-256) belongs to; no row for an
-- unknown or revoked token or a removed member.
CREATE FUNCTION staff_token_owner(token_hash bytea)
RETURNS TABLE (id uuid, organization_id uuid, role text)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT u.id, u.organization_id, u.role
      FROM auth_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = staff_token_owner.token_hash AND t.revoked_at IS NULL AND u.removed_at IS NULL;
END
$$;

-- A new vehicle of the organization; no row when the customer is not the
-- organization's: the check and the insert are one statement.
CREATE FUNCTION create_vehicle(
    p_org uuid, p_year integer, p_make text, p_model text, p_vin text, p_stock_number text, p_customer uuid,
    p_stage text, p_estimated_arrival date, p_sale_price_amount numeric, p_sale_price_currency char(3))
RETURNS SETOF vehicles
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
    INSERT INTO vehicles AS v (organization_id, year, make, model, vin, stock_number, customer_id,
                               stage, estimated_arrival, sale_price_amount, sale_price_currency)
    SELECT p_org, p_year, p_make, p_model, p_vin, p_stock_number, p_customer,
           p_stage, p_estimated_arrival, p_sale_price_amount, p_sale_price_currency
     WHERE p_customer IS NULL
        OR EXISTS (SELECT 1 FROM customers c WHERE c.organization_id = p_org AND c.id = p_customer)
    RETURNING v.*;
END
$$;

-- A vehicle's new tracking link, in one statement: it locks the live
-- vehicle of the organization (as db.lockVehicle does), inserts the link
-- and its CREATED event and, for a vehicle already DELIVERED, its expiry
-- after delivery with that event (unless expiresAt was given,
-- p_expires_given). No row when there is no such vehicle; a second active
-- link is tracking_links_one_active's unique violation. It sends no
-- notification: a new link changes no public view a replica holds or
-- follows (db.CreateTrackingLink says why).
CREATE FUNCTION create_tracking_link(
    p_org uuid, p_vehicle uuid, p_slug text, p_show_photo boolean, p_show_estimated_arrival boolean,
    p_show_progress boolean, p_show_customer_notes boolean, p_expires_at timestamptz, p_created_by uuid,
    p_expires_given boolean)
RETURNS SETOF tracking_links
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    -- The vehicle is locked by its primary key whatever the statistics
    -- say: "live" (deleted_at IS NULL) is tested on the locked row, not in
    -- the locking scan (MATERIALIZED keeps it out), so that no index of
    -- live vehicles only (every other index on vehicles) can serve that
    -- scan. Planned on a table never analyzed (a bulk load before
    -- autovacuum gets to it), the scan took vehicles_count_idx and read
    -- every vehicle of the organization to find one, and the plan was
    -- kept. FOR UPDATE returns the row as it is once locked, so a
    -- deletion that commits first is seen.
    RETURN QUERY
    WITH locked AS MATERIALIZED (SELECT v.id, v.stage, v.deleted_at FROM vehicles v
                     WHERE v.id = p_vehicle AND v.organization_id = p_org FOR UPDATE),
    v AS (SELECT locked.id, locked.stage FROM locked WHERE locked.deleted_at IS NULL),
    d AS (SELECT link_delivery_expiry(o.link_expiry_days_after_delivery) AS expires_at
            FROM v JOIN organizations o ON o.id = p_org
           WHERE NOT p_expires_given AND v.stage = 'DELIVERED' AND o.link_expiry_days_after_delivery IS NOT NULL),
    l AS (INSERT INTO tracking_links AS l (organization_id, vehicle_id, slug, show_photo, show_estimated_arrival,
                                           show_progress, show_customer_notes, expires_at, created_by)
          SELECT p_org, v.id, p_slug, p_show_photo, p_show_estimated_arrival, p_show_progress, p_show_customer_notes,
                 COALESCE((SELECT d.expires_at FROM d), p_expires_at), p_created_by
            FROM v
          RETURNING l.*),
    e AS (INSERT INTO tracking_link_events (link_id, kind, actor_id)
          SELECT l.id, k.kind, k.actor
            FROM l CROSS JOIN (VALUES (1, 'CREATED', p_created_by), (2, 'EXPIRY_SET_ON_DELIVERY', NULL::uuid)) AS k(ord, kind, actor)
           WHERE k.ord = 1 OR EXISTS (SELECT 1 FROM d)
           ORDER BY k.ord)
    SELECT l.* FROM l;
END
$$;
