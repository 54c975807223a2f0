-- The media sweep asks, for each page of stored files, which keys a row
-- refers to; a photo stored before variants existed is known only by its
-- storage_key.
CREATE INDEX photos_storage_key_idx ON photos (storage_key);
