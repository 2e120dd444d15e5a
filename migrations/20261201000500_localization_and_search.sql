-- Catalog search: businesses(query, serviceQuery) matches names case- and accent-insensitively,
-- anywhere in the name ("cafe" finds "Le Café Crème"), through trigram indexes. Runs on PostgreSQL
-- 15 (contrib) and on PGlite (its pg_trgm and unaccent extensions, loaded in src/db/connect.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- The one normalization of searched text, applied to the stored columns and to the query alike:
-- NFC first (a decomposed "é" becomes the composed one unaccent knows), accents off, then lower
-- case. unaccent() is only STABLE (its dictionary could be changed), so it cannot feed a generated
-- column or an index; this wrapper names the dictionary and the schema explicitly, which makes
-- declaring it IMMUTABLE safe in practice (the usual recipe). Changing unaccent's rules would need
-- the generated columns rewritten (UPDATE ... SET name = name) and the indexes rebuilt.
CREATE FUNCTION search_text(value text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, normalize(value, NFC))) $$;

ALTER TABLE businesses ADD COLUMN search_name text GENERATED ALWAYS AS (search_text(name)) STORED;
ALTER TABLE services ADD COLUMN search_name text GENERATED ALWAYS AS (search_text(name)) STORED;

-- Names change rarely and are searched on every keystroke of a search box: the trigram indexes
-- take each write into the tree at once (fastupdate off) rather than into a pending list that
-- every search must also scan, and that the planner prices high until a VACUUM merges it.
-- businesses(query): live businesses whose name contains the query.
CREATE INDEX businesses_search_name_trgm_idx ON businesses USING gin (search_name gin_trgm_ops) WITH (fastupdate = off) WHERE deleted_at IS NULL;
-- businesses(serviceQuery): businesses with a bookable service whose name contains the query.
CREATE INDEX services_search_name_trgm_idx ON services USING gin (search_name gin_trgm_ops) WITH (fastupdate = off) WHERE deleted_at IS NULL AND is_active;
