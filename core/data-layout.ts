/**
 * Where each kind of object lives in the data bucket.
 *
 * One definition for the storage lifecycle rules, the IAM policies scoped to prefixes, the
 * handlers that read and write them, and the local runner. Every prefix ends with "/".
 */
export const DATA_PREFIXES = {
  /** Uploads land here; every object created under it starts one workflow execution. */
  raw: "raw/",
  /**
   * Under raw/: an upload here lists facilities that closed, one `{"facility_id": "..."}` per
   * line; the workflow marks them retired in the current state, by the same ordering rule.
   */
  retirements: "raw/retirements/",
  /**
   * The valid records of each upload as canonical JSON Lines with their provenance, one object per
   * source object version, never overwritten by another upload: the staging table's location.
   */
  staging: "staging/facilities/",
  /** The current-state Iceberg table (one row per facility_id): its data and metadata files. */
  current: "current/facilities/",
  /** One line per rejected record, with its line number and every reason; one object per source object version. */
  rejected: "rejected/",
  /**
   * Beside rejected/: one line per kept record that was repaired or has warnings (its repairs
   * with the values received and kept, its warnings); one object per source object version.
   */
  quality: "quality/",
  /** Facilities with an accreditation expiring within the window. */
  expiring: "transformed/expiring_facilities/",
  /** Athena query results; expired by the lifecycle configuration. */
  athenaResults: "athena-results/",
  /** Published query results (CSV) for people and downstream tools. */
  analytics: "analytics/",
} as const;

export type DataPrefix = keyof typeof DATA_PREFIXES;

/**
 * The Glue tables Athena queries. The database's name is configuration (see databaseNameFor):
 * two pipelines in one account must not share it.
 */
export const CATALOG = {
  /** The current state, one row per facility_id (Apache Iceberg), kept by the MERGE after each upload. */
  currentTable: "facilities",
  /** Every staged record of every upload with its provenance (JSON over staging/facilities/), for history. */
  stagingTable: "facility_uploads",
} as const;

/** The Glue database the local mode uses, and the example value of the placeholder. */
export const LOCAL_DATABASE = "facility_pipeline_db";

/**
 * The default Glue database name for a name prefix: `dev-health` -> `dev_health_facility_pipeline`.
 * Glue database names are lower case letters, digits and underscores (Athena reads a hyphen as
 * minus), at most 255 characters.
 */
export function databaseNameFor(namePrefix: string): string {
  return `${namePrefix
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")}_facility_pipeline`;
}
