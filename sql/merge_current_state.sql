-- Applies one staged upload to the current-state table `facilities` (Apache Iceberg): one row per
-- facility_id, holding its latest record. The state machine runs it after the ingest Lambda has
-- staged the upload's valid records, with the staged object's S3 URI (its "$path") inlined.
--
-- Ordering rule: a staged record replaces the current row only when its upload is newer, by event
-- time, then by sequencer (both ISO/hex strings of fixed width, so text order is time order). A
-- late, duplicate or replayed event of an older upload therefore changes nothing, whatever order
-- the executions run in. A retirement (retired = true) keeps the facility's last record and marks
-- it retired; the queries leave retired facilities out, and a newer upload that lists the facility
-- again brings it back.
--
-- The source is deduplicated per facility_id first: Athena fails a MERGE in which two source rows
-- match one target row (MERGE_TARGET_ROW_MULTIPLE_MATCHES), DuckDB silently keeps the last.
-- @parameter staged_object string: the staged object, s3://<bucket>/staging/facilities/<source>/<version>.jsonl
MERGE INTO facilities AS t
USING (
  SELECT
    facility_id, facility_name, location, employee_count, services, labs, accreditations,
    source_key, source_version, event_time, sequencer, source_line, retired
  FROM (
    SELECT
      u.*,
      row_number() OVER (
        PARTITION BY u.facility_id
        ORDER BY u.event_time DESC, u.sequencer DESC, u.source_line DESC
      ) AS arrival_rank
    FROM facility_uploads AS u
    WHERE u."$path" = CAST(? AS VARCHAR)
  ) AS ranked
  WHERE arrival_rank = 1
) AS s
ON t.facility_id = s.facility_id
WHEN MATCHED AND s.retired
  AND (s.event_time > t.event_time OR (s.event_time = t.event_time AND s.sequencer > t.sequencer)) THEN
  UPDATE SET
    retired = true,
    source_key = s.source_key, source_version = s.source_version, event_time = s.event_time,
    sequencer = s.sequencer, source_line = s.source_line
WHEN MATCHED
  AND (s.event_time > t.event_time OR (s.event_time = t.event_time AND s.sequencer > t.sequencer)) THEN
  UPDATE SET
    facility_name = s.facility_name, location = s.location, employee_count = s.employee_count,
    services = s.services, labs = s.labs, accreditations = s.accreditations,
    source_key = s.source_key, source_version = s.source_version, event_time = s.event_time,
    sequencer = s.sequencer, source_line = s.source_line, retired = false
WHEN NOT MATCHED THEN
  INSERT (
    facility_id, facility_name, location, employee_count, services, labs, accreditations,
    source_key, source_version, event_time, sequencer, source_line, retired
  )
  VALUES (
    s.facility_id, s.facility_name, s.location, s.employee_count, s.services, s.labs, s.accreditations,
    s.source_key, s.source_version, s.event_time, s.sequencer, s.source_line, s.retired
  )
