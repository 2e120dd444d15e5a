-- Names and descriptions of businesses and services in locales other than the business's default
-- (the row's own name and description are in businesses.default_locale). One row per (object,
-- locale); a request picks the locale from its `locale` argument or Accept-Language, field by
-- field, falling back to the default (see src/localization/).
--
-- Locales are BCP 47 tags in canonical case (`ja`, `en-GB`, `zh-Hant-TW`), as the API stores them.
-- Service translations carry business_id, so the composite key keeps them with their business's
-- service, like every tenant table.
CREATE TABLE business_translations (
  business_id bigint      NOT NULL REFERENCES businesses (id),
  locale      text        NOT NULL CHECK (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text        CHECK (length(description) <= 2000),
  search_name text        GENERATED ALWAYS AS (search_text(name)) STORED,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, locale)
);

CREATE TABLE service_translations (
  business_id bigint      NOT NULL,
  service_id  bigint      NOT NULL,
  locale      text        NOT NULL CHECK (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text        CHECK (length(description) <= 2000),
  search_name text        GENERATED ALWAYS AS (search_text(name)) STORED,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service_id, locale),
  FOREIGN KEY (business_id, service_id) REFERENCES services (business_id, id)
);

-- businesses(query) and businesses(serviceQuery) also match the translated names (see migration
-- 20261201000500 for the normalization and fastupdate).
CREATE INDEX business_translations_search_name_trgm_idx ON business_translations USING gin (search_name gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX service_translations_search_name_trgm_idx ON service_translations USING gin (search_name gin_trgm_ops) WITH (fastupdate = off);
