/**
 * Runs one measured command in a fresh child process: wall time from spawn to exit, its output,
 * and (on Linux) its resident memory sampled from /proc while it runs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

export interface RssSample {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly rssBytes: number;
}

export interface ChildOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Write stdout to this file instead of collecting it. */
  readonly stdoutFile?: string;
  /** Kill the child (SIGTERM, then SIGKILL 5 s later) after this long. */
  readonly timeoutMs?: number;
  /** Sample the child's RSS every this many milliseconds (Linux only). */
  readonly rssSampleMs?: number;
  /** Called for each line of stderr, with the child to kill if the line says it is stuck. */
  readonly onStderrLine?: (line: string, kill: (reason: string) => void) => void;
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly wallMs: number;
  /** Empty when stdoutFile was given. */
  readonly stdout: string;
  /** The last 64 KiB of stderr. */
  readonly stderrTail: string;
  /** Why the child was killed, if it was. */
  readonly killedBecause?: string;
  readonly rssSamples: readonly RssSample[];
  /** Epoch milliseconds at spawn. */
  readonly startedAt: number;
}

const STDERR_TAIL = 64 * 1024;

function readRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function runChild(command: string, args: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  const stdoutFd = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, "w");
  const startedAt = Date.now();
  const started = performance.now();
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", stdoutFd ?? "pipe", "pipe"],
  });
  if (stdoutFd !== undefined) closeSync(stdoutFd);

  const stdout: Buffer[] = [];
  let stderr = "";
  let pending = "";
  let killedBecause: string | undefined;
  const timers: NodeJS.Timeout[] = [];
  const kill = (reason: string) => {
    if (killedBecause !== undefined || child.exitCode !== null || child.signalCode !== null) return;
    killedBecause = reason;
    child.kill("SIGTERM");
    timers.push(setTimeout(() => child.kill("SIGKILL"), 5000).unref());
  };
  child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL);
    if (options.onStderrLine === undefined) return;
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) options.onStderrLine(line, kill);
  });
  if (options.timeoutMs !== undefined) {
    timers.push(
      setTimeout(() => kill(`timed out after ${(options.timeoutMs! / 1000).toFixed(0)} s`), options.timeoutMs),
    );
  }
  const rssSamples: RssSample[] = [];
  if (options.rssSampleMs !== undefined && process.platform === "linux" && child.pid !== undefined) {
    const pid = child.pid;
    const sample = () => {
      const rssBytes = readRss(pid);
      if (rssBytes !== undefined) rssSamples.push({ at: Date.now(), rssBytes });
    };
    timers.push(setInterval(sample, options.rssSampleMs));
  }

  return new Promise((resolve, reject) => {
    child.on("error", (error) => {
      timers.forEach(clearTimeout);
      reject(error);
    });
    child.on("close", (code, signal) => {
      timers.forEach((timer) => clearTimeout(timer));
      resolve({
        code,
        signal,
        wallMs: performance.now() - started,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderrTail: stderr,
        killedBecause,
        rssSamples,
        startedAt,
      });
    });
  });
}

/** The last line of stdout parsed as JSON; throws with the child's stderr when there is none. */
export function lastJsonLine<T>(result: ChildResult, what: string): T {
  const line = result.stdout.trim().split("\n").pop() ?? "";
  if (result.code !== 0 || !line.startsWith("{")) {
    const why = result.killedBecause ?? (result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`);
    throw new Error(`${what} failed (${why}):\n${result.stderrTail.trim().split("\n").slice(-15).join("\n")}`);
  }
  return JSON.parse(line) as T;
}
