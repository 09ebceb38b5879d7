-- Where the current state comes from: each upload that holds at least one current facility row,
-- newest first, with how many facilities it holds (the provenance of the HTML report).
SELECT
  source_key,
  source_version,
  max(event_time) AS event_time,
  count(*) AS facilities
FROM facilities
WHERE NOT retired
GROUP BY source_key, source_version
ORDER BY event_time DESC, source_key
