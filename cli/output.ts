/** What a subcommand prints, and the small formatters they share. */

/** A subcommand's result: main() prints `json` with --json, else `text`, and exits with `exitCode`. */
export interface CommandOutput {
  readonly exitCode: 0 | 1;
  readonly text: string;
  readonly json: unknown;
  /** Bytes written to stdout as they are, instead of `text` and `json` (cat). */
  readonly body?: AsyncIterable<Uint8Array>;
}

/** Progress lines for a person (stderr). */
export type Log = (line: string) => void;

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 83_000 -> "1 min 23 s"; 1_200 -> "1.2 s". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/**
 * A duration written 90s, 30m, 24h, 7d or 2w, in milliseconds; undefined when the text is not one.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (!match || Number(match[1]) <= 0) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
    match[2] as "s" | "m" | "h" | "d" | "w"
  ];
  return Number(match[1]) * unit;
}

/** The first line of a text, at most `max` characters. */
export function firstLine(text: string, max = 200): string {
  const line = text.split("\n")[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The part of an execution's cause a person reads first: a Lambda error's errorMessage, an Athena
 * query's failure reason, else the cause itself. Keeps a "<State> failed: " prefix.
 */
export function readableCause(cause: string): string {
  const prefix = /^[A-Za-z0-9_-]+ failed: /.exec(cause)?.[0] ?? "";
  const body = cause.slice(prefix.length);
  try {
    const parsed = JSON.parse(body) as {
      errorMessage?: unknown;
      QueryExecution?: { Status?: { StateChangeReason?: unknown; AthenaError?: { ErrorMessage?: unknown } } };
    };
    const status = parsed?.QueryExecution?.Status;
    const message = parsed?.errorMessage ?? status?.AthenaError?.ErrorMessage ?? status?.StateChangeReason;
    if (typeof message === "string") return `${prefix}${message}`;
  } catch {
    // Not JSON, or JSON that a States.Format has mangled (it does not escape what it inserts):
    // the message field can still be read out of the text.
    const field = /"(?:errorMessage|StateChangeReason)":"(.*?)"(?:,"[A-Za-z]+":|\})/.exec(body)?.[1];
    if (field !== undefined) return `${prefix}${field.replace(/\\(["\\/])/g, "$1").replace(/\\n/g, " ")}`;
  }
  return cause;
}
