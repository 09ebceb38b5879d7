-- Stage 1: one row per facility in the current state (retired ones left out) with the figures a
-- reviewer asks for first, as of a date.
--   first_accreditation_valid_until: the first accreditation on record (NULL when it has none:
--   in Athena, accreditations[1] fails the whole query on an empty array, so it is guarded);
--   next_accreditation_valid_until: the earliest expiry on or after the as-of date (NULL when
--   every accreditation has expired).
-- @parameter as_of date: the date the next expiry is looked for from, e.g. '2026-11-26'
WITH settings AS (
  SELECT CAST(? AS DATE) AS as_of
),
next_expiry AS (
  SELECT f.facility_id, min(CAST(a.valid_until AS DATE)) AS next_accreditation_valid_until
  FROM facilities AS f
  CROSS JOIN settings AS s
  CROSS JOIN UNNEST(f.accreditations) AS a (accreditation_body, accreditation_id, valid_until)
  WHERE NOT f.retired AND CAST(a.valid_until AS DATE) >= s.as_of
  GROUP BY f.facility_id
)
SELECT
  f.facility_id,
  f.facility_name,
  f.employee_count,
  cardinality(f.services) AS number_of_services,
  CASE
    WHEN cardinality(f.accreditations) > 0 THEN CAST(f.accreditations[1].valid_until AS DATE)
  END AS first_accreditation_valid_until,
  n.next_accreditation_valid_until
FROM facilities AS f
LEFT JOIN next_expiry AS n ON n.facility_id = f.facility_id
WHERE NOT f.retired
ORDER BY f.facility_id
