/**
 * The Glue catalog and the Athena workgroup: what Athena needs to stage, merge and query the
 * facility records.
 */
import { AthenaNamedQuery } from "@cdktf/provider-aws/lib/athena-named-query";
import { AthenaWorkgroup } from "@cdktf/provider-aws/lib/athena-workgroup";
import { GlueCatalogDatabase } from "@cdktf/provider-aws/lib/glue-catalog-database";
import { GlueCatalogTable } from "@cdktf/provider-aws/lib/glue-catalog-table";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { CATALOG, databaseNameFor } from "../core/data-layout";
import { RECORD_COLUMNS, toHiveType } from "../core/facility-schema";
import { ATHENA_BYTES_SCANNED_CUTOFF } from "../core/settings";
import { listQueries, readQuery } from "../core/sql";
import type { Storage } from "./storage";

export interface CatalogProps {
  /** The bucket holding the staged records, the current table and Athena results. */
  readonly storage: Storage;
  /** Prefix of the workgroup and named query names, and of the default database name. */
  readonly namePrefix: string;
  /**
   * Glue database name: lower case letters, digits and underscores. Two pipelines in one account
   * need two names.
   * @default - derived from namePrefix: `<name_prefix>_facility_pipeline` (databaseNameFor)
   */
  readonly databaseName?: string;
  /**
   * Athena cancels a query that would scan more bytes than this.
   * @default 1 GiB (ATHENA_BYTES_SCANNED_CUTOFF in core/settings.ts)
   */
  readonly bytesScannedCutoffPerQuery?: number;
}

/** databaseNameFor, which cannot rewrite a Terraform reference: a caller with one must name the database. */
function defaultDatabaseName(namePrefix: string): string {
  if (Token.isUnresolved(namePrefix)) {
    throw new Error(
      "Catalog: namePrefix is a Terraform reference, so the Glue database name cannot be derived from it: pass databaseName",
    );
  }
  return databaseNameFor(namePrefix);
}

const columns = RECORD_COLUMNS.map((column) => ({
  name: column.name,
  type: toHiveType(column.type),
  comment: column.comment,
}));

/**
 * A Glue database with two tables (columns from core/facility-schema.ts, RECORD_COLUMNS):
 * - `facility_uploads`, the staging table: JSON over `staging/facilities/` (OpenX JSON SerDe),
 *   every valid record of every upload with its provenance; the MERGE reads one upload's object of
 *   it (by `"$path"`), `history` reads a facility's records.
 * - `facilities`, the current state: an Apache Iceberg table (Parquet) under `current/facilities/`,
 *   one row per facility_id, kept by the workflow's MERGE. Created by Terraform through Glue's
 *   OpenTableFormatInput (metadata_operation CREATE); every Athena commit then rewrites the
 *   table's parameters (metadata_location), so Terraform ignores parameters and storage descriptor
 *   after creation (docs/architecture.md, "The current-state table").
 * Plus an Athena engine v3 workgroup that enforces its result location and encryption, and one
 * named query per file in sql/.
 */
export class Catalog extends Construct {
  readonly database: GlueCatalogDatabase;
  /** The current-state Iceberg table. */
  readonly table: GlueCatalogTable;
  readonly stagingTable: GlueCatalogTable;
  readonly workgroup: AthenaWorkgroup;
  readonly databaseName: string;
  /** `facilities`: the current-state table. */
  readonly tableName: string;
  /** `facility_uploads`: the staging table. */
  readonly stagingTableName: string;
  readonly workgroupName: string;
  /** Named queries by sql/ file name. */
  readonly namedQueries: Readonly<Record<string, AthenaNamedQuery>>;

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id);
    const { storage } = props;

    this.database = new GlueCatalogDatabase(this, "database", {
      name: props.databaseName ?? defaultDatabaseName(props.namePrefix),
      description: "Healthcare facility accreditation records: staged uploads and the current state",
    });
    this.databaseName = this.database.name;

    this.stagingTable = new GlueCatalogTable(this, "staging-table", {
      name: CATALOG.stagingTable,
      databaseName: this.database.name,
      description: "Every valid record of every upload with its provenance, one JSON object per line",
      tableType: "EXTERNAL_TABLE",
      parameters: { classification: "json", EXTERNAL: "TRUE", has_encrypted_data: "true" },
      storageDescriptor: {
        location: storage.s3Url("staging"),
        inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
        outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serDeInfo: {
          name: "openx-json",
          serializationLibrary: "org.openx.data.jsonserde.JsonSerDe",
          // Staged objects are validated, so a malformed line is a bug: fail the query on it.
          parameters: { "ignore.malformed.json": "FALSE", "case.insensitive": "TRUE" },
        },
        columns,
      },
    });
    this.stagingTableName = this.stagingTable.name;

    this.table = new GlueCatalogTable(this, "facilities-table", {
      name: CATALOG.currentTable,
      databaseName: this.database.name,
      description: "The current state: one row per facility_id, its latest valid record (Apache Iceberg)",
      tableType: "EXTERNAL_TABLE",
      openTableFormatInput: { icebergInput: { metadataOperation: "CREATE", version: "2" } },
      storageDescriptor: {
        location: storage.s3Url("current"),
        columns,
      },
      lifecycle: { ignoreChanges: ["parameters", "storage_descriptor"] },
    });
    this.tableName = this.table.name;

    this.workgroup = new AthenaWorkgroup(this, "workgroup", {
      name: `${props.namePrefix}-facility-pipeline`,
      description: "Queries of the healthcare facility pipeline",
      state: "ENABLED",
      configuration: {
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? ATHENA_BYTES_SCANNED_CUTOFF.default,
        engineVersion: { selectedEngineVersion: "Athena engine version 3" },
        resultConfiguration: {
          outputLocation: storage.s3Url("athenaResults"),
          encryptionConfiguration: resultEncryption(storage),
        },
      },
    });
    this.workgroupName = this.workgroup.name;

    const namedQueries: Record<string, AthenaNamedQuery> = {};
    for (const name of listQueries()) {
      namedQueries[name] = new AthenaNamedQuery(this, `query-${name}`, {
        name: `${props.namePrefix}-${name}`,
        description: `sql/${name}.sql`,
        database: this.database.name,
        workgroup: this.workgroup.id,
        query: readQuery(name),
      });
    }
    this.namedQueries = namedQueries;
  }
}

/** SSE-KMS with the bucket's key when it has one, else SSE-S3; for a module variable, whichever it decides. */
function resultEncryption(storage: Storage): { encryptionOption: string; kmsKeyArn?: string } {
  const key = storage.kmsKeyArn;
  if (key === undefined || storage.kmsKeyPresent === false) return { encryptionOption: "SSE_S3" };
  if (storage.kmsKeyPresent === true) return { encryptionOption: "SSE_KMS", kmsKeyArn: key };
  return {
    encryptionOption: Token.asString(Fn.conditional(storage.kmsKeyPresent, "SSE_KMS", "SSE_S3")),
    kmsKeyArn: key,
  };
}
