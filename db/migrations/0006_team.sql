-- The team: several members per organization, invites, and removal that
-- keeps a member's history (the notes and links they made still name them).

ALTER TABLE users ADD COLUMN removed_at timestamptz;

-- A removed member's address may be invited again.
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE removed_at IS NULL;
CREATE INDEX users_members_idx ON users (organization_id, created_at, id) WHERE removed_at IS NULL;

-- An invite's token is kept only as its SHA-256. A row ends accepted or
-- cancelled (or simply expires); at most one open invite per address and
-- organization.
CREATE TABLE invites (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    email           text NOT NULL,
    role            text NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'STAFF')),
    token_hash      bytea NOT NULL,
    invited_by      uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    accepted_at     timestamptz,
    accepted_by     uuid REFERENCES users (id),
    cancelled_at    timestamptz,
    CHECK (accepted_at IS NULL OR cancelled_at IS NULL),
    CHECK ((accepted_at IS NULL) = (accepted_by IS NULL))
);
CREATE UNIQUE INDEX invites_token_key ON invites (token_hash);
CREATE UNIQUE INDEX invites_one_open ON invites (organization_id, lower(email))
    WHERE accepted_at IS NULL AND cancelled_at IS NULL;

-- The rule "an organization always keeps an OWNER", held by the database
-- for every writer: removing or demoting an owner locks the organization's
-- row, so two such changes in one organization run one after the other,
-- and the second counts the owners the first left. NO KEY UPDATE: the
-- lock serialises these changes without blocking the rows that merely
-- reference the organization (their foreign keys take KEY SHARE).
CREATE FUNCTION users_keep_an_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.role <> 'OWNER' OR OLD.removed_at IS NOT NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.role = 'OWNER' AND NEW.removed_at IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM organizations WHERE id = OLD.organization_id FOR NO KEY UPDATE;
    IF NOT EXISTS (SELECT 1 FROM users
                    WHERE organization_id = OLD.organization_id AND id <> OLD.id
                      AND role = 'OWNER' AND removed_at IS NULL) THEN
        RAISE EXCEPTION 'the organization''s last owner cannot be removed or demoted'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_last_owner';
    END IF;
    RETURN NULL;
END $$;

-- AFTER, so the count runs once the row's own change is in place; the
-- trigger's queries take a fresh snapshot once the lock is granted.
CREATE TRIGGER users_keep_an_owner AFTER UPDATE OF role, removed_at OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_keep_an_owner();
