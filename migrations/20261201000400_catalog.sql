-- Catalog: businesses, services, partners and customers run through the API (issue 11).
--
-- Soft delete with partial unique indexes over live rows: an archived row keeps its history (the
-- bookings that point at it still read it) and frees what must be unique for the rows that live.
-- An archived service or partner is never bookable: archiving also makes it inactive, and a CHECK
-- keeps it so, so every check of is_active is already a check of "live and active".

-- A slug is unique among live businesses only: archiving a business frees its slug for a new one
-- (an old link by slug then reaches the new business; links by ID keep reaching the archived one).
DROP INDEX businesses_slug_key;
CREATE UNIQUE INDEX businesses_live_slug_key ON businesses (slug) WHERE deleted_at IS NULL;

UPDATE services SET is_active = false WHERE deleted_at IS NOT NULL AND is_active;
ALTER TABLE services ADD CONSTRAINT services_archived_inactive CHECK (deleted_at IS NULL OR NOT is_active);

ALTER TABLE partners ADD COLUMN deleted_at timestamptz;
ALTER TABLE partners ADD CONSTRAINT partners_archived_inactive CHECK (deleted_at IS NULL OR NOT is_active);
-- Business.partners lists live partners only.
DROP INDEX partners_business_name_idx;
CREATE INDEX partners_business_name_idx ON partners (business_id, name, id) WHERE deleted_at IS NULL;

-- Which partners perform which service: availability and assignment offer only these pairs. Rows
-- of archived services and partners stay (history); they are inactive and so never offered.
CREATE TABLE partner_services (
  business_id bigint      NOT NULL,
  partner_id  bigint      NOT NULL,
  service_id  bigint      NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Probed per partner by availableSlots and the free-partner choice: (partner, service) first.
  PRIMARY KEY (partner_id, service_id),
  FOREIGN KEY (business_id, partner_id) REFERENCES partners (business_id, id),
  FOREIGN KEY (business_id, service_id) REFERENCES services (business_id, id)
);
-- Service.partners: who performs a service.
CREATE INDEX partner_services_service_idx ON partner_services (service_id, partner_id);

-- Until now every partner of a business was assumed to perform every service: keep it so.
INSERT INTO partner_services (business_id, partner_id, service_id)
SELECT pa.business_id, pa.id, s.id
FROM partners pa JOIN services s ON s.business_id = pa.business_id AND s.deleted_at IS NULL;
