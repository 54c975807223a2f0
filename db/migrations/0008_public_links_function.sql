-- The public side's one lookup (db.Store.PublicLinks) as a function, so
-- that PostgreSQL plans its query once per connection (PL/pgSQL keeps the
-- plan) instead of on every call: planning cost three times what running
-- it did. The server calls it with an unnamed statement, never a named
-- prepared one, so it runs through PgBouncer in transaction pooling.
-- It reads only the public parts of a link, its vehicle and organization.
CREATE FUNCTION public_links(slugs text[])
RETURNS TABLE (
    slug text, link_id uuid, organization_id uuid, vehicle_id uuid,
    show_photo boolean, show_estimated_arrival boolean, show_progress boolean, show_customer_notes boolean,
    expires_at timestamptz, ended_at timestamptz,
    year integer, make text, model text, stage text, estimated_arrival date, vehicle_deleted_at timestamptz,
    org_name text, country char(2), subscription_status text, logo_key text, language text, time_zone text,
    hero json, photos json, notes json
)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT l.slug, l.id AS link_id, l.organization_id, l.vehicle_id, l.show_photo, l.show_estimated_arrival, l.show_progress,
           l.show_customer_notes, l.expires_at, l.ended_at,
           v.year, v.make, v.model, v.stage, v.estimated_arrival, v.deleted_at AS vehicle_deleted_at,
           o.name AS org_name, o.country, o.subscription_status, o.logo_key, o.language, o.time_zone,
           (SELECT json_build_object('id', p.id, 'storage_key', p.storage_key, 'content_type', p.content_type,
                                     'caption', p.caption, 'width', p.width, 'height', p.height)
              FROM photos p WHERE l.show_photo AND p.id = v.hero_photo_id) AS hero,
           (SELECT COALESCE(json_agg(json_build_object('id', p.id, 'storage_key', p.storage_key,
                                     'content_type', p.content_type, 'caption', p.caption,
                                     'width', p.width, 'height', p.height) ORDER BY lp.position), '[]')
              FROM tracking_link_photos lp JOIN photos p ON p.id = lp.photo_id
             WHERE lp.link_id = l.id) AS photos,
           (SELECT COALESCE(json_agg(json_build_object('body', n.body, 'created_at', n.created_at)
                                     ORDER BY n.created_at DESC, n.id DESC), '[]')
              FROM notes n
             WHERE l.show_customer_notes AND n.vehicle_id = v.id AND n.scope = 'CUSTOMER') AS notes
      FROM tracking_links l
      JOIN vehicles v ON v.id = l.vehicle_id
      JOIN organizations o ON o.id = l.organization_id
     WHERE l.slug = ANY(slugs);
END
$$;
