-- The whole data model of the first release.

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE organizations (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL,
    country             char(2) NOT NULL,
    subscription_status text NOT NULL DEFAULT 'ACTIVE'
        CHECK (subscription_status IN ('TRIALING', 'ACTIVE', 'PAST_DUE', 'LOCKED', 'CANCELED')),
    logo_key            text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    email           text NOT NULL,
    name            text NOT NULL,
    role            text NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'STAFF')),
    password_hash   text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- One account per address, whatever its case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_organization_idx ON users (organization_id);

-- Bearer tokens, stored only as their SHA-256.
CREATE TABLE auth_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX auth_tokens_user_idx ON auth_tokens (user_id);

CREATE TABLE customers (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name            text NOT NULL,
    email           text,
    phone           text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_page_idx ON customers (organization_id, lower(name), id);

CREATE TABLE vehicles (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id     uuid NOT NULL REFERENCES organizations (id),
    year                integer NOT NULL,
    make                text NOT NULL,
    model               text NOT NULL,
    vin                 text,
    stock_number        text,
    customer_id         uuid REFERENCES customers (id),
    stage               text NOT NULL DEFAULT 'PURCHASED'
        CHECK (stage IN ('PURCHASED', 'AWAITING_SHIPMENT', 'IN_TRANSIT', 'ARRIVED',
                         'CUSTOMS_CLEARED', 'COMPLIANCE', 'READY_FOR_DELIVERY', 'DELIVERED')),
    estimated_arrival   date,
    hero_photo_id       uuid,
    sale_price_amount   numeric(19, 4),
    sale_price_currency char(3),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    CHECK ((sale_price_amount IS NULL) = (sale_price_currency IS NULL))
);
CREATE INDEX vehicles_page_idx ON vehicles (organization_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE photos (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    vehicle_id      uuid NOT NULL REFERENCES vehicles (id),
    storage_key     text NOT NULL,
    content_type    text NOT NULL,
    caption         text,
    width           integer,
    height          integer,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX photos_vehicle_idx ON photos (vehicle_id, created_at, id);

ALTER TABLE vehicles ADD FOREIGN KEY (hero_photo_id) REFERENCES photos (id) ON DELETE SET NULL;

CREATE TABLE notes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    vehicle_id      uuid NOT NULL REFERENCES vehicles (id),
    author_id       uuid REFERENCES users (id),
    body            text NOT NULL,
    scope           text NOT NULL CHECK (scope IN ('CUSTOMER', 'INTERNAL')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_vehicle_idx ON notes (vehicle_id, created_at DESC);

CREATE TABLE cost_items (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    vehicle_id      uuid NOT NULL REFERENCES vehicles (id),
    category        text NOT NULL,
    description     text,
    amount          numeric(19, 4) NOT NULL CHECK (amount >= 0),
    currency        char(3) NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cost_items_vehicle_idx ON cost_items (vehicle_id, created_at);

CREATE TABLE payments (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    vehicle_id      uuid NOT NULL REFERENCES vehicles (id),
    amount          numeric(19, 4) NOT NULL CHECK (amount >= 0),
    currency        char(3) NOT NULL,
    received_at     timestamptz NOT NULL,
    reference       text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_vehicle_idx ON payments (vehicle_id, received_at);

-- Every link ever issued. A revoked or replaced link keeps its row with
-- ended_at set; at most one row per vehicle is active.
CREATE TABLE tracking_links (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id        uuid NOT NULL REFERENCES organizations (id),
    vehicle_id             uuid NOT NULL REFERENCES vehicles (id),
    slug                   text NOT NULL,
    show_photo             boolean NOT NULL DEFAULT true,
    show_estimated_arrival boolean NOT NULL DEFAULT true,
    show_progress          boolean NOT NULL DEFAULT true,
    show_customer_notes    boolean NOT NULL DEFAULT true,
    expires_at             timestamptz,
    created_by             uuid REFERENCES users (id),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    ended_at               timestamptz,
    end_reason             text CHECK (end_reason IN ('REVOKED', 'REGENERATED', 'VEHICLE_DELETED')),
    replaced_by            uuid REFERENCES tracking_links (id),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE UNIQUE INDEX tracking_links_slug_key ON tracking_links (slug);
-- The rule "each vehicle has at most one active link", held by the database.
CREATE UNIQUE INDEX tracking_links_one_active ON tracking_links (vehicle_id) WHERE ended_at IS NULL;

-- The gallery photos picked for a link, in the order picked.
CREATE TABLE tracking_link_photos (
    link_id  uuid NOT NULL REFERENCES tracking_links (id),
    photo_id uuid NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    position integer NOT NULL,
    PRIMARY KEY (link_id, photo_id)
);
CREATE INDEX tracking_link_photos_photo_idx ON tracking_link_photos (photo_id);
