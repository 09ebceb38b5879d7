-- Every staged record of one facility, newest upload first, with what changed from the record
-- before it (the columns that differ; "unchanged" when none does): the staging table keeps each upload's records with their provenance, whereas the
-- current table keeps only the latest (and Iceberg time travel would stop at the snapshots VACUUM
-- keeps). `facility-pipeline history FACILITY_ID` runs it.
-- Order: event time, then sequencer, then line, as the MERGE decides which record wins.
-- @parameter facility_id string: the facility, e.g. 'FAC-0001'
SELECT
  source_key,
  source_version,
  event_time,
  source_line,
  retired,
  facility_name,
  location.state AS state,
  cardinality(accreditations) AS accreditation_count,
  CASE
    WHEN lag(event_time) OVER (ORDER BY event_time, sequencer, source_line) IS NULL THEN 'first record'
    WHEN retired THEN 'retired'
    WHEN lag(retired) OVER (ORDER BY event_time, sequencer, source_line) THEN 'listed again after its retirement'
    ELSE coalesce(nullif(concat_ws(
      ', ',
      CASE WHEN facility_name IS DISTINCT FROM lag(facility_name) OVER (ORDER BY event_time, sequencer, source_line) THEN 'facility_name' END,
      CASE WHEN location IS DISTINCT FROM lag(location) OVER (ORDER BY event_time, sequencer, source_line) THEN 'location' END,
      CASE WHEN employee_count IS DISTINCT FROM lag(employee_count) OVER (ORDER BY event_time, sequencer, source_line) THEN 'employee_count' END,
      CASE WHEN services IS DISTINCT FROM lag(services) OVER (ORDER BY event_time, sequencer, source_line) THEN 'services' END,
      CASE WHEN labs IS DISTINCT FROM lag(labs) OVER (ORDER BY event_time, sequencer, source_line) THEN 'labs' END,
      CASE WHEN accreditations IS DISTINCT FROM lag(accreditations) OVER (ORDER BY event_time, sequencer, source_line) THEN 'accreditations' END
    ), ''), 'unchanged')
  END AS changes
FROM facility_uploads
WHERE facility_id = CAST(? AS VARCHAR)
ORDER BY event_time DESC, sequencer DESC, source_line DESC
