/** What every benchmark gets from bench/run.ts: the mode, the settings, and the generated data. */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runChild, type ChildResult } from "./child";
import type { GenerationSummary } from "./generator";

export const PROJECT_ROOT = join(__dirname, "..", "..");

export interface DataFile {
  readonly path: string;
  readonly facilities: number;
  readonly bytes: number;
  /** The generator's own report (npm run generate prints it on stderr); from a previous run when reused. */
  readonly generation: GenerationSummary & { readonly elapsedMs: number; readonly peakRssBytes: number };
  readonly reused: boolean;
}

export interface BenchSettings {
  readonly quick: boolean;
  /** Runs per measured case (the 1M end-to-end case may use fewer; it says so). */
  readonly runs: number;
  readonly asOf: string;
  readonly windowMonths: number;
  readonly invalidRate: number;
  readonly seed: number;
  /** Write V8 CPU profiles of the measured children here. */
  readonly cpuProfDir?: string;
}

export class BenchContext {
  private readonly files = new Map<number, Promise<DataFile>>();
  /** The node binary the benchmarks run on (npm puts the project's Node 22 first on PATH). */
  readonly node = process.execPath;
  readonly root = PROJECT_ROOT;

  constructor(
    readonly settings: BenchSettings,
    /** Scratch space for this run. */
    readonly workDir: string,
    /** Where generated files live; reused across runs when it is not the scratch directory. */
    readonly dataDir: string,
    readonly log: (line: string) => void,
  ) {
    mkdirSync(dataDir, { recursive: true });
  }

  /** A JSON Lines file of `facilities` records at the run's invalid rate and seed, generated once. */
  dataFile(facilities: number): Promise<DataFile> {
    let file = this.files.get(facilities);
    if (file === undefined) {
      file = this.generate(facilities);
      this.files.set(facilities, file);
    }
    return file;
  }

  /** The sizes generated (or reused) so far, in order. */
  generatedSizes(): number[] {
    return [...this.files.keys()];
  }

  /** Extra node flags that make a child write a CPU profile named after `name`, when asked to. */
  profileFlags(name: string): string[] {
    const dir = this.settings.cpuProfDir;
    return dir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-name", `${name}.cpuprofile`];
  }

  private async generate(facilities: number): Promise<DataFile> {
    const { invalidRate, seed } = this.settings;
    const path = join(this.dataDir, `facilities-${facilities}-rate${invalidRate}-seed${seed}.jsonl`);
    const summaryPath = `${path}.summary.json`;
    if (existsSync(path) && existsSync(summaryPath)) {
      const generation = JSON.parse(readFileSync(summaryPath, "utf8")) as DataFile["generation"];
      if (generation.bytes === statSync(path).size) {
        this.log(`data: reusing ${path}`);
        return { path, facilities, bytes: generation.bytes, generation, reused: true };
      }
    }
    this.log(`data: generating ${facilities.toLocaleString("en-US")} facilities`);
    const args = ["--import", "tsx", join(this.root, "bench", "generate.ts")];
    args.push("--facilities", String(facilities), "--invalid-rate", String(invalidRate));
    args.push("--seed", String(seed), "--out", path);
    const result: ChildResult = await runChild(this.node, args, { cwd: this.root });
    const line = result.stderrTail.trim().split("\n").pop() ?? "";
    if (result.code !== 0 || !line.startsWith("{")) {
      throw new Error(`npm run generate failed (exit code ${result.code}):\n${result.stderrTail}`);
    }
    const generation = JSON.parse(line) as DataFile["generation"];
    writeFileSync(summaryPath, `${JSON.stringify(generation)}\n`);
    return { path, facilities, bytes: generation.bytes, generation, reused: false };
  }
}

/** "100k", "1M", "2,000". */
export function facilitiesLabel(facilities: number): string {
  if (facilities >= 1e6 && facilities % 1e6 === 0) return `${facilities / 1e6}M`;
  if (facilities >= 1e4 && facilities % 1e3 === 0) return `${facilities / 1e3}k`;
  return facilities.toLocaleString("en-US");
}
