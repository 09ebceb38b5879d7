/**
 * Every query of sql/ parses by Trino's grammar (dt-sql-parser), a check independent of DuckDB,
 * which runs the same text locally. A file added to sql/ is picked up by listQueries().
 */
import { listQueries, queryCode, readQuery } from "../../core/sql";
import { queryPlaceholderValues } from "../../core/asl";
import { stateMachineQuerySyntaxErrors, trinoSyntaxErrors } from "../helpers/trino-grammar";

/**
 * Athena's own statements for Iceberg upkeep, which Trino writes differently (ALTER TABLE ...
 * EXECUTE optimize / expire_snapshots): checked against Athena's documented syntax instead.
 */
const ATHENA_ONLY: Readonly<Record<string, RegExp>> = {
  optimize_current_state: /^OPTIMIZE facilities REWRITE DATA USING BIN_PACK$/,
  vacuum_current_state: /^VACUUM facilities$/,
};

describe("the queries of sql/ parse by Trino's grammar", () => {
  test.each(listQueries().filter((name) => !Object.hasOwn(ATHENA_ONLY, name)))("sql/%s.sql", (name) => {
    expect(trinoSyntaxErrors(readQuery(name))).toEqual([]);
  });

  test.each(Object.entries(ATHENA_ONLY))("sql/%s.sql is Athena's statement, as documented", (name, syntax) => {
    expect(queryCode(name)).toMatch(syntax);
    expect(trinoSyntaxErrors(queryCode(name)).length).toBeGreaterThan(0);
  });
});

describe("the grammar accepts the constructs the queries use", () => {
  test.each([
    [
      "? parameters and the hidden column $path",
      `SELECT facility_id FROM facility_uploads WHERE "$path" = CAST(? AS VARCHAR) LIMIT ?`,
    ],
    [
      "CTEs and CROSS JOIN UNNEST with column aliases",
      `WITH settings AS (SELECT CAST(? AS DATE) AS as_of),
facility_status AS (
  SELECT f.facility_id, bool_or(CAST(a.valid_until AS DATE) >= s.as_of) AS current
  FROM facilities AS f
  CROSS JOIN settings AS s
  CROSS JOIN UNNEST(f.accreditations) AS a (accreditation_body, accreditation_id, valid_until)
  GROUP BY f.facility_id
)
SELECT count_if(current) FROM facility_status`,
    ],
    [
      "MERGE with WHEN MATCHED AND ... THEN UPDATE and WHEN NOT MATCHED THEN INSERT",
      `MERGE INTO facilities AS t
USING (SELECT facility_id, facility_name, retired FROM facility_uploads WHERE "$path" = ?) AS s
ON t.facility_id = s.facility_id
WHEN MATCHED AND s.retired THEN UPDATE SET retired = true
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED THEN INSERT (facility_id, facility_name, retired) VALUES (s.facility_id, s.facility_name, s.retired)`,
    ],
    [
      "CREATE TABLE IF NOT EXISTS ... WITH (...)",
      `CREATE TABLE IF NOT EXISTS facilities (facility_id varchar, location ROW(state varchar), labs array(varchar))
WITH (table_type = 'ICEBERG', location = 's3://bucket/current/facilities/', format = 'PARQUET')`,
    ],
  ])("%s", (_construct, sql) => {
    expect(trinoSyntaxErrors(sql)).toEqual([]);
  });
});

describe("the grammar rejects a broken query, naming the line", () => {
  test("a FROM without a table", () => {
    const errors = trinoSyntaxErrors("SELECT facility_id FROM WHERE x = 1");
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^line 1, column 25: 'WHERE' is not valid at this position/);
  });

  test("a MERGE clause without THEN", () => {
    const sql = [
      "MERGE INTO facilities AS t",
      "USING (SELECT facility_id, retired FROM facility_uploads) AS s",
      "ON t.facility_id = s.facility_id",
      "WHEN MATCHED AND s.retired",
      "  UPDATE SET retired = true",
      "WHEN NOT MATCHED THEN INSERT (facility_id, retired) VALUES (s.facility_id, s.retired)",
    ].join("\n");
    const errors = trinoSyntaxErrors(sql);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^line 5, column 3: 'UPDATE' is not valid at this position/);
  });

  test("a second statement", () => {
    expect(trinoSyntaxErrors("SELECT 1;\n  SELECT 2")).toEqual([
      'line 2, column 3: a second statement: Athena runs one statement per query (near "SELECT 2")',
    ]);
  });

  test("an incomplete statement", () => {
    expect(trinoSyntaxErrors("SELECT facility_id\nFROM facilities\nWHERE")).toEqual([
      expect.stringMatching(/^line 3, column \d+: Statement is incomplete/),
    ]);
  });
});

describe("stateMachineQuerySyntaxErrors", () => {
  const ATHENA_ONLY_PLACEHOLDERS = new Set(["OptimizeCurrentStateQuery", "VacuumCurrentStateQuery"]);
  test.each(
    Object.entries(queryPlaceholderValues()).filter(([placeholder]) => !ATHENA_ONLY_PLACEHOLDERS.has(placeholder)),
  )("the rendered %s parses", (_placeholder, queryString) => {
    expect(stateMachineQuerySyntaxErrors(queryString)).toEqual([]);
  });

  test("unescapes a States.Format template and reads each {} as a parameter", () => {
    const queryString = String.raw`States.Format('SELECT \'a\{b\}\\\' AS x FROM t WHERE "$path" = \'{}\' AND n = {}', $.a, $.b)`;
    expect(stateMachineQuerySyntaxErrors(queryString)).toEqual([]);
    expect(stateMachineQuerySyntaxErrors(queryString.replace("FROM t", "FROM"))[0]).toMatch(
      /^line 1, column 26: 'WHERE' is not valid at this position/,
    );
  });

  test("takes a plain QueryString as SQL and refuses a JSONPath", () => {
    expect(stateMachineQuerySyntaxErrors("SELECT 1")).toEqual([]);
    expect(() => stateMachineQuerySyntaxErrors("$.query")).toThrow("not SQL but a JSONPath");
  });
});
