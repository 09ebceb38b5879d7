-- Stage 2 in SQL, for ad-hoc use: accreditations that expire within 6 months of today,
-- both ends inclusive (the Lambda filter-expiring does the same per upload, with a pinned date).
SELECT
  f.facility_id,
  f.facility_name,
  f.location.state AS state,
  a.accreditation_body,
  a.accreditation_id,
  CAST(a.valid_until AS DATE) AS valid_until,
  date_diff('day', current_date, CAST(a.valid_until AS DATE)) AS days_until_expiry
FROM facilities AS f
CROSS JOIN UNNEST(f.accreditations) AS a (accreditation_body, accreditation_id, valid_until)
WHERE CAST(a.valid_until AS DATE) BETWEEN current_date AND date_add('month', 6, current_date)
ORDER BY valid_until, f.facility_id
