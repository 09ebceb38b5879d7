/**
 * facility-pipeline: the one command line. `facility-pipeline [FILES...]` runs the pipeline
 * locally (./run.ts); `facility-pipeline replay|status|query|history|notify-test|cat` operates a deployment
 * or a local state directory (./operations.ts). Each side is loaded only when it is asked for, so
 * operating AWS never loads the local emulator's dependencies (DuckDB, s3rver, the ASL interpreter).
 */
import { SUBCOMMANDS, type CliIo } from "./io";

/** Runs one command line; returns the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  if ((SUBCOMMANDS as readonly string[]).includes(argv[0] ?? "")) {
    return (await import("./operations")).runOperations(argv, io);
  }
  return (await import("./run")).runPipeline(argv, io);
}

/**
 * The process entry point (bin/facility-pipeline.js): sets the exit code, and ends quietly when
 * whoever reads stdout stops reading (`facility-pipeline --json | head -2`).
 */
export function runFromCommandLine(argv: readonly string[] = process.argv.slice(2)): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  main(argv).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(
        `facility-pipeline: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
