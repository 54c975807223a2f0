-- The customer page's language and time zone. NULL follows the country
-- (domain.DefaultLanguage, domain.DefaultTimeZone), so a change of country
-- moves both until staff pick one. Which tags and zones are valid is
-- checked in Go (the supported languages and Go's zone database); the
-- checks here only keep the columns to plausible shapes.
ALTER TABLE organizations
    ADD COLUMN language  text CHECK (language ~ '^[a-z]{2,3}$'),
    ADD COLUMN time_zone text CHECK (time_zone ~ '^[A-Za-z0-9_+/-]{1,64}$');
