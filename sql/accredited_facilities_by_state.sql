-- Stage 3: accredited facilities (at least one accreditation) per state.
-- DISTINCT because the table covers every curated upload: a facility sent twice counts once.
SELECT
  location.state AS state,
  COUNT(DISTINCT facility_id) AS accredited_facility_count
FROM facilities
WHERE cardinality(accreditations) > 0
GROUP BY location.state
ORDER BY state
