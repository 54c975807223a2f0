-- Uploaded images are re-encoded without their metadata and kept in
-- derived sizes. Every stored file has a row here with the strong ETag
-- (a hash of its bytes) computed at upload, so a conditional request is
-- answered without reading the file.
--
-- A photo's storage_key is now the base of its variants' keys
-- (<storage_key>-full, -large, -small); a logo's logo_key is its one file.
-- A photo stored before this migration has no row here and is not served.
CREATE TABLE media_objects (
    key          text PRIMARY KEY,
    -- Set for a photo's variants, which go with the photo.
    photo_id     uuid REFERENCES photos (id) ON DELETE CASCADE,
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    width        integer NOT NULL CHECK (width > 0),
    height       integer NOT NULL CHECK (height > 0),
    size         bigint NOT NULL CHECK (size > 0),
    etag         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_objects_photo_idx ON media_objects (photo_id) WHERE photo_id IS NOT NULL;

-- The logo route finds the organization by its logo's key.
CREATE INDEX organizations_logo_key_idx ON organizations (logo_key) WHERE logo_key IS NOT NULL;
