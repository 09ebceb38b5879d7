/**
 * The Athena queries in sql/, read by name.
 *
 * The same text is used by the Athena named queries, the state machine and the local engine.
 * Uses only node:fs and node:path so it stays free of cdktf.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "./package-root";

export const SQL_DIR = join(PACKAGE_ROOT, "sql");

export class UnknownQueryError extends Error {
  override readonly name = "UnknownQueryError";
}

/** Returns the text of `sql/<name>.sql`, without a trailing semicolon (Athena rejects it). */
export function readQuery(name: string): string {
  const available = listQueries();
  if (!available.includes(name)) {
    throw new UnknownQueryError(
      `Unknown query "${name}": expected one of ${available.join(", ")} (files in ${SQL_DIR})`,
    );
  }
  return readFileSync(join(SQL_DIR, `${name}.sql`), "utf8")
    .trim()
    .replace(/;\s*$/, "");
}

/** The names of every query file in sql/, sorted. */
export function listQueries(): string[] {
  return readdirSync(SQL_DIR)
    .filter((file) => file.endsWith(".sql"))
    .map((file) => file.slice(0, -".sql".length))
    .sort();
}
