-- The weekly expiry digest for compliance, over the current state (one row per facility, retired
-- ones left out): every accreditation that expired in the look-back period before the as-of date
-- or expires within the window after it, both ends inclusive, soonest first, each in a horizon:
--   expired (days_until_expiry < 0), 0-30, 31-60, 61-90, 91-180 days, beyond (181 days to the
--   window's end, for a window longer than 6 months).
-- The state machine expiry-digest runs it with the execution's as-of date inlined; the same text
-- answers for any date (`facility-pipeline digest --as-of`).
-- @parameter as_of date: the digest's date, e.g. '2026-11-26'
-- @parameter window_months integer: the window's length in months, e.g. 6
-- @parameter lookback_days integer: how many days back an expired accreditation is still listed, e.g. 30
WITH settings AS (
  SELECT CAST(? AS DATE) AS as_of, CAST(? AS INTEGER) AS window_months, CAST(? AS INTEGER) AS lookback_days
),
listed AS (
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
    AND CAST(a.valid_until AS DATE)
      BETWEEN date_add('day', -s.lookback_days, s.as_of) AND date_add('month', s.window_months, s.as_of)
)
SELECT
  facility_id,
  facility_name,
  state,
  accreditation_body,
  accreditation_id,
  valid_until,
  days_until_expiry,
  CASE
    WHEN days_until_expiry < 0 THEN 'expired'
    WHEN days_until_expiry <= 30 THEN '0-30'
    WHEN days_until_expiry <= 60 THEN '31-60'
    WHEN days_until_expiry <= 90 THEN '61-90'
    WHEN days_until_expiry <= 180 THEN '91-180'
    ELSE 'beyond'
  END AS horizon
FROM listed
ORDER BY days_until_expiry, facility_id, accreditation_id
