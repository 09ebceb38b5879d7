-- Stage 1: one row per facility with the figures a reviewer asks for first.
-- first_accreditation_valid_until is NULL for a facility with no accreditations: in Athena,
-- accreditations[1] fails the whole query on an empty array, so it is guarded by CASE.
SELECT
  facility_id,
  facility_name,
  employee_count,
  cardinality(services) AS number_of_services,
  CASE
    WHEN cardinality(accreditations) > 0 THEN CAST(accreditations[1].valid_until AS DATE)
  END AS first_accreditation_valid_until
FROM facilities
ORDER BY facility_id
