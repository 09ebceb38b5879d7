/** What every command of the CLI shares: where it writes, and the subcommand names. */

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** The subcommands of ./operations.ts; anything else is the local run command (./run.ts). */
export const SUBCOMMANDS = ["replay", "status", "query", "history", "digest", "report", "notify-test", "cat"] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

/**
 * Sends what is written to process.stdout to `stream` until the returned function is called. The
 * handlers log JSON to stdout, as in Lambda; with --json, stdout carries only the result.
 */
export function redirectStdout(stream: NodeJS.WritableStream): () => void {
  const original = process.stdout.write;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    (stream.write as (...args: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
  };
}
