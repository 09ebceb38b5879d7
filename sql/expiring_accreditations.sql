-- Stage 2 in SQL, over the current state (one row per facility, retired ones left out):
-- accreditations that expire within the window of an as-of date, both ends inclusive (the Lambda
-- filter-expiring does the same per upload).
-- The same text answers for any date: the as-of date and the window are execution parameters
-- (Athena ExecutionParameters, bound in order; `facility-pipeline query` passes --as-of and
-- --window-months), never current_date.
-- @parameter as_of date: the first day of the window, e.g. '2026-11-26'
-- @parameter window_months integer: the window's length in months, e.g. 6
WITH settings AS (
  SELECT CAST(? AS DATE) AS as_of, CAST(? AS INTEGER) AS window_months
)
SELECT
  f.facility_id,
  f.facility_name,
  f.location.state AS state,
  a.accreditation_body,
  a.accreditation_id,
  CAST(a.valid_until AS DATE) AS valid_until,
  date_diff('day', s.as_of, CAST(a.valid_until AS DATE)) AS days_until_expiry
FROM facilities AS f
CROSS JOIN settings AS s
CROSS JOIN UNNEST(f.accreditations) AS a (accreditation_body, accreditation_id, valid_until)
WHERE NOT f.retired
  AND CAST(a.valid_until AS DATE) BETWEEN s.as_of AND date_add('month', s.window_months, s.as_of)
ORDER BY valid_until, f.facility_id
