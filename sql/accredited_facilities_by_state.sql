-- Stage 3: facilities per state in the current state (one row per facility, retired ones left
-- out), as of a date.
--   accredited_facility_count: facilities with at least one accreditation on record;
--   currently_accredited_facility_count: of those, the ones with at least one accreditation valid
--   on the as-of date (valid_until on or after it).
-- A state whose facilities have no accreditation at all has no row.
-- @parameter as_of date: the date accreditations are checked against, e.g. '2026-11-26'
WITH settings AS (
  SELECT CAST(? AS DATE) AS as_of
),
facility_status AS (
  SELECT
    f.facility_id,
    f.location.state AS state,
    bool_or(CAST(a.valid_until AS DATE) >= s.as_of) AS currently_accredited
  FROM facilities AS f
  CROSS JOIN settings AS s
  CROSS JOIN UNNEST(f.accreditations) AS a (accreditation_body, accreditation_id, valid_until)
  WHERE NOT f.retired
  GROUP BY f.facility_id, f.location.state
)
SELECT
  state,
  count(*) AS accredited_facility_count,
  count_if(currently_accredited) AS currently_accredited_facility_count
FROM facility_status
GROUP BY state
ORDER BY state
