/**
 * The layout of a local state directory (npm start -- --state-dir DIR), and the check that one
 * is usable before anything is started in it.
 *
 *   DIR/s3/<bucket>/...            the S3 endpoint's files (read objects with `facility-pipeline cat KEY`)
 *   DIR/catalog.duckdb             the local Glue catalog: the current-state table `facilities` (DuckDB)
 *   DIR/athena/                    DuckDB scratch: staged objects being loaded, result files before upload
 *   DIR/outbox/notifications.jsonl what the SNS states published (the failure topic)
 *   DIR/outbox/compliance.jsonl    what the expiry digest published to the compliance topic
 *   DIR/executions/<name>.json     one record per execution, for `status --target local`
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

export const stateDirLayout = (stateDir: string) =>
  ({
    s3: join(stateDir, "s3"),
    catalog: join(stateDir, "catalog.duckdb"),
    athena: join(stateDir, "athena"),
    outbox: join(stateDir, "outbox"),
    outboxFile: join(stateDir, "outbox", "notifications.jsonl"),
    complianceOutboxFile: join(stateDir, "outbox", "compliance.jsonl"),
    executions: join(stateDir, "executions"),
  }) as const;

/** A state directory that cannot be used: the message names the path and the problem. */
export class StateDirError extends Error {
  override readonly name = "StateDirError";
}

/**
 * Checks that `stateDir` is a directory this process can read, write and enter, creating it when
 * it does not exist; throws StateDirError otherwise. Synchronous and quick, so a bad path fails at
 * once instead of in the middle of a run (a file, /proc, a read-only mount, no permission).
 */
export function prepareStateDir(stateDir: string): void {
  if (existsSync(stateDir)) {
    if (!statSync(stateDir).isDirectory()) {
      throw new StateDirError(`--state-dir ${stateDir}: not a directory (it is a file): name a directory`);
    }
  } else {
    try {
      makeDirectories(stateDir);
    } catch (error) {
      throw new StateDirError(`--state-dir ${stateDir}: cannot create it (${(error as NodeJS.ErrnoException).code})`);
    }
  }
  try {
    accessSync(stateDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch {
    throw new StateDirError(`--state-dir ${stateDir}: not readable and writable by this user: check its permissions`);
  }
  const layout = stateDirLayout(stateDir);
  try {
    for (const dir of [layout.s3, layout.outbox]) makeDirectories(dir);
  } catch (error) {
    throw new StateDirError(
      `--state-dir ${stateDir}: cannot create folders in it (${(error as NodeJS.ErrnoException).code}): choose a directory on a writable disk`,
    );
  }
}

/**
 * mkdir -p, one level at a time. Node's `mkdirSync(path, { recursive: true })` never returns for
 * a path under /proc (it retries forever at full CPU), so the recursion is done here.
 */
function makeDirectories(path: string): void {
  if (existsSync(path)) return;
  const parent = dirname(path);
  if (parent !== path) makeDirectories(parent);
  mkdirSync(path);
}
