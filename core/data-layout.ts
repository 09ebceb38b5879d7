/**
 * Where each kind of object lives in the data bucket.
 *
 * One definition for the storage lifecycle rules, the IAM policies scoped to prefixes, the
 * handlers that read and write them, and the local runner. Every prefix ends with "/".
 */
export const DATA_PREFIXES = {
  /** Uploads land here; every object created under it starts one workflow execution. */
  raw: "raw/",
  /** Validated records as canonical JSON Lines: the Glue table's location. */
  curated: "curated/facilities/",
  /** One line per rejected record, with its line number and every reason. */
  rejected: "rejected/",
  /** Facilities with an accreditation expiring within the window. */
  expiring: "transformed/expiring_facilities/",
  /** Athena query results; expired by the lifecycle configuration. */
  athenaResults: "athena-results/",
  /** Published query results (CSV) for people and downstream tools. */
  analytics: "analytics/",
} as const;

export type DataPrefix = keyof typeof DATA_PREFIXES;

/** The Glue database and table that Athena queries. */
export const CATALOG = {
  database: "healthcare_facility_db",
  table: "facilities",
} as const;
