/**
 * The Glue catalog and the Athena workgroup: what Athena needs to query the curated records.
 */
import { AthenaNamedQuery } from "@cdktf/provider-aws/lib/athena-named-query";
import { AthenaWorkgroup } from "@cdktf/provider-aws/lib/athena-workgroup";
import { GlueCatalogDatabase } from "@cdktf/provider-aws/lib/glue-catalog-database";
import { GlueCatalogTable } from "@cdktf/provider-aws/lib/glue-catalog-table";
import { Construct } from "constructs";
import { CATALOG } from "../core/data-layout";
import { FACILITY_COLUMNS, toHiveType } from "../core/facility-schema";
import { ATHENA_BYTES_SCANNED_CUTOFF } from "../core/settings";
import { listQueries, readQuery } from "../core/sql";
import type { Storage } from "./storage";

export interface CatalogProps {
  /** The bucket holding curated records and Athena results. */
  readonly storage: Storage;
  /** Prefix of the workgroup and named query names. */
  readonly namePrefix: string;
  /** Glue database name. @default "healthcare_facility_db" */
  readonly databaseName?: string;
  /**
   * Athena cancels a query that would scan more bytes than this.
   * @default 1 GiB (ATHENA_BYTES_SCANNED_CUTOFF in core/settings.ts)
   */
  readonly bytesScannedCutoffPerQuery?: number;
}

/**
 * Glue database `healthcare_facility_db` and table `facilities` over `curated/facilities/`
 * (OpenX JSON SerDe, columns from core/facility-schema.ts), an Athena engine v3 workgroup that
 * enforces its result location and encryption, and one named query per file in sql/.
 */
export class Catalog extends Construct {
  readonly database: GlueCatalogDatabase;
  readonly table: GlueCatalogTable;
  readonly workgroup: AthenaWorkgroup;
  readonly databaseName: string;
  readonly tableName: string;
  readonly workgroupName: string;
  /** Named queries by sql/ file name. */
  readonly namedQueries: Readonly<Record<string, AthenaNamedQuery>>;

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id);
    const { storage } = props;

    this.database = new GlueCatalogDatabase(this, "database", {
      name: props.databaseName ?? CATALOG.database,
      description: "Healthcare facility accreditation records curated by the facility pipeline",
    });
    this.databaseName = this.database.name;

    this.table = new GlueCatalogTable(this, "facilities-table", {
      name: CATALOG.table,
      databaseName: this.database.name,
      description: "Validated facility records, one JSON object per line",
      tableType: "EXTERNAL_TABLE",
      parameters: { classification: "json", EXTERNAL: "TRUE", has_encrypted_data: "true" },
      storageDescriptor: {
        location: storage.s3Url("curated"),
        inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
        outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serDeInfo: {
          name: "openx-json",
          serializationLibrary: "org.openx.data.jsonserde.JsonSerDe",
          // Curated objects are validated, so a malformed line is a bug: fail the query on it.
          parameters: { "ignore.malformed.json": "FALSE", "case.insensitive": "TRUE" },
        },
        columns: FACILITY_COLUMNS.map((column) => ({
          name: column.name,
          type: toHiveType(column.type),
          comment: column.comment,
        })),
      },
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
          encryptionConfiguration: storage.kmsKeyArn
            ? { encryptionOption: "SSE_KMS", kmsKeyArn: storage.kmsKeyArn }
            : { encryptionOption: "SSE_S3" },
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
