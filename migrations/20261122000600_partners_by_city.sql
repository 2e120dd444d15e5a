-- availablePartners(city, date) without a business: active partners of every business in a city,
-- least busy first. The index of migration 0001 leads with business_id and cannot serve it.
CREATE INDEX partners_city_active_idx ON partners (city, active_booking_count, id) WHERE is_active;
