-- Descriptions for businesses and services, and the locale their own name and description are in
-- (translations into other locales are kept beside them). Existing rows are in English.
ALTER TABLE businesses ADD COLUMN description text;
ALTER TABLE businesses ADD COLUMN default_locale text NOT NULL DEFAULT 'en' CHECK (default_locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$');
ALTER TABLE services ADD COLUMN description text;
