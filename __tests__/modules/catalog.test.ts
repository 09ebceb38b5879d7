import { databaseNameFor } from "../../core/data-layout";
import { FACILITY_COLUMNS, RECORD_COLUMNS, toDuckDbType, toHiveType } from "../../core/facility-schema";
import { listQueries, readQuery } from "../../core/sql";
import { onlyResource, referenceTo, resourcesOfType, synthStack } from "../helpers/synth";

describe("catalog module", () => {
  const stack = synthStack();
  const bucket = onlyResource(stack, "aws_s3_bucket").bucket as string;

  const tables = Object.values(resourcesOfType(stack, "aws_glue_catalog_table"));
  const tableNamed = (name: string) => tables.find((table) => table.name === name)!;

  test("the Glue database's name derives from the name prefix, or comes from the config", () => {
    expect(onlyResource(stack, "aws_glue_catalog_database").name).toBe("hfap_test_facility_pipeline");
    expect(databaseNameFor("dev-Health--2")).toBe("dev_health_2_facility_pipeline");
    const named = synthStack({ glueDatabaseName: "prod_facilities" });
    expect(onlyResource(named, "aws_glue_catalog_database").name).toBe("prod_facilities");
  });

  test("two tables: the staging table and the current-state table", () => {
    expect(tables.map((table) => table.name).sort()).toEqual(["facilities", "facility_uploads"]);
  });

  test("the staging table reads the staged JSON Lines with the OpenX SerDe", () => {
    expect(tableNamed("facility_uploads")).toMatchObject({
      database_name: referenceTo(stack, "aws_glue_catalog_database", "name"),
      table_type: "EXTERNAL_TABLE",
      storage_descriptor: {
        location: `s3://${referenceTo(stack, "aws_s3_bucket", "bucket")}/staging/facilities/`,
        input_format: "org.apache.hadoop.mapred.TextInputFormat",
        ser_de_info: { serialization_library: "org.openx.data.jsonserde.JsonSerDe" },
      },
    });
    expect(bucket).toBe("hfap-test-facility-data");
  });

  test("the current-state table is Iceberg, created by Glue, and Terraform leaves what Athena commits change", () => {
    expect(tableNamed("facilities")).toMatchObject({
      database_name: referenceTo(stack, "aws_glue_catalog_database", "name"),
      open_table_format_input: { iceberg_input: { metadata_operation: "CREATE", version: "2" } },
      storage_descriptor: { location: `s3://${referenceTo(stack, "aws_s3_bucket", "bucket")}/current/facilities/` },
      lifecycle: { ignore_changes: ["parameters", "storage_descriptor"] },
    });
  });

  test("both tables' columns are the record's then its provenance, with nested types spelled out", () => {
    for (const name of ["facilities", "facility_uploads"]) {
      const columns = (tableNamed(name).storage_descriptor as { columns: unknown[] }).columns;
      expect(columns).toEqual(
        RECORD_COLUMNS.map((column) => ({ name: column.name, type: toHiveType(column.type), comment: column.comment })),
      );
      expect(
        Object.fromEntries(columns.map((c) => [(c as { name: string }).name, (c as { type: string }).type])),
      ).toEqual({
        facility_id: "string",
        facility_name: "string",
        location: "struct<address:string,city:string,state:string,zip:string>",
        employee_count: "int",
        services: "array<string>",
        labs: "array<struct<lab_name:string,certifications:array<string>>>",
        accreditations: "array<struct<accreditation_body:string,accreditation_id:string,valid_until:string>>",
        source_key: "string",
        source_version: "string",
        event_time: "string",
        sequencer: "string",
        source_line: "int",
        retired: "boolean",
      });
    }
  });

  test("the same schema renders as DuckDB types for the local engine", () => {
    const accreditations = FACILITY_COLUMNS.find((column) => column.name === "accreditations")!;
    expect(toDuckDbType(accreditations.type)).toBe(
      'STRUCT("accreditation_body" VARCHAR, "accreditation_id" VARCHAR, "valid_until" VARCHAR)[]',
    );
  });

  test("the workgroup enforces engine v3, an encrypted result location, metrics and a scan cutoff", () => {
    expect(onlyResource(stack, "aws_athena_workgroup")).toMatchObject({
      name: "hfap-test-facility-pipeline",
      state: "ENABLED",
      configuration: {
        enforce_workgroup_configuration: true,
        publish_cloudwatch_metrics_enabled: true,
        bytes_scanned_cutoff_per_query: 1024 ** 3,
        engine_version: { selected_engine_version: "Athena engine version 3" },
        result_configuration: {
          output_location: `s3://${referenceTo(stack, "aws_s3_bucket", "bucket")}/athena-results/`,
          encryption_configuration: { encryption_option: "SSE_S3" },
        },
      },
    });
  });

  test("the scan cutoff comes from the config", () => {
    const workgroup = onlyResource(synthStack({ athenaBytesScannedCutoff: 50_000_000 }), "aws_athena_workgroup");
    expect((workgroup.configuration as Record<string, unknown>).bytes_scanned_cutoff_per_query).toBe(50_000_000);
  });

  test("there is one named query per sql/ file, with the file's text", () => {
    const queries = Object.values(resourcesOfType(stack, "aws_athena_named_query"));
    expect(queries.map((query) => query.name).sort()).toEqual(listQueries().map((name) => `hfap-test-${name}`));
    for (const query of queries) {
      const name = (query.name as string).replace("hfap-test-", "");
      expect(query.query).toBe(readQuery(name));
      expect(query.workgroup).toBe(referenceTo(stack, "aws_athena_workgroup", "id"));
    }
    expect(listQueries()).toEqual([
      "accredited_facilities_by_state",
      "current_state_uploads",
      "expiring_accreditations",
      "expiry_digest",
      "facility_history",
      "facility_summary",
      "merge_current_state",
      "optimize_current_state",
      "vacuum_current_state",
    ]);
  });
});

describe("sql/", () => {
  test("readQuery strips the trailing semicolon and rejects unknown names", () => {
    expect(readQuery("facility_summary")).not.toMatch(/;\s*$/);
    expect(() => readQuery("drop_everything")).toThrow(/Unknown query "drop_everything": expected one of/);
  });

  test("facility_summary guards the first accreditation against an empty array", () => {
    // accreditations[1] fails the whole Athena query on a facility with no accreditations.
    expect(readQuery("facility_summary")).toMatch(
      /WHEN cardinality\(f\.accreditations\) > 0 THEN[^\n]*f\.accreditations\[1\]/,
    );
  });
});
