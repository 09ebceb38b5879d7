/**
 * 2. Synth: the wall time of `npm run synth` (cdktf app -> Terraform JSON), and of the node
 * command behind it, to show what npm itself adds. Each run synthesizes into a fresh directory
 * (CDKTF_OUTDIR), so the project's cdktf.out/ is left alone.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runChild, type ChildResult } from "./lib/child";
import type { BenchContext } from "./lib/context";
import type { SectionResult } from "./lib/report";
import { formatSpread, MB, spreadOf } from "./lib/stats";

export const SYNTH_TARGET_MS = 2000;

/** How to run npm: the npm that runs this benchmark when there is one, else the one on PATH. */
function npmCommand(): { command: string; args: string[] } {
  const npmCli = process.env.npm_execpath;
  return npmCli && existsSync(npmCli) && npmCli.endsWith(".js")
    ? { command: process.execPath, args: [npmCli] }
    : { command: "npm", args: [] };
}

export async function runSynthBenchmark(context: BenchContext): Promise<SectionResult> {
  const { runs, quick } = context.settings;
  const npm = npmCommand();
  const viaNpm: number[] = [];
  const direct: number[] = [];
  const directRss: number[] = [];
  /** One synth into a fresh directory; returns its wall time after checking it wrote a manifest. */
  const synth = async (label: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) => {
    const outdir = join(context.workDir, label);
    const result: ChildResult = await runChild(command, args, {
      cwd: context.root,
      env: { ...process.env, ...env, CDKTF_OUTDIR: outdir },
    });
    if (result.code !== 0) throw new Error(`${label} failed (exit code ${result.code}):\n${result.stderrTail}`);
    if (!existsSync(join(outdir, "manifest.json"))) throw new Error(`${label} wrote no ${outdir}/manifest.json`);
    return result.wallMs;
  };
  for (let run = 1; run <= runs; run++) {
    context.log(`synth: run ${run}/${runs}`);
    viaNpm.push(await synth(`synth-npm-${run}`, npm.command, [...npm.args, "run", "--silent", "synth"]));
    // The --quick smoke test skips the second form: it only adds time.
    if (quick) continue;
    const rssFile = join(context.workDir, `synth-node-${run}.rss`);
    const probe = join(context.root, "bench", "probes", "peak-rss.mjs");
    const args = ["--import", probe, ...context.profileFlags(`synth-${run}`), "--import", "tsx", "main.ts"];
    direct.push(await synth(`synth-node-${run}`, context.node, args, { FACILITY_BENCH_RSS_OUT: rssFile }));
    directRss.push(Number(readFileSync(rssFile, "utf8")));
  }
  const npmSpread = spreadOf(viaNpm);
  const directSpread = direct.length > 0 ? spreadOf(direct) : undefined;
  const rssSpread = directRss.length > 0 ? spreadOf(directRss) : undefined;
  return {
    id: "synth",
    title: `2. Synth: cdktf app to Terraform JSON (${runs} run${runs > 1 ? "s" : ""}, median (min-max))`,
    tables: [
      {
        header: ["command", "wall ms", "peak RSS MB"],
        rows: [
          ["npm run synth", formatSpread(npmSpread), "-"],
          [
            "node --import tsx main.ts (what the script runs)",
            directSpread ? formatSpread(directSpread) : "-",
            rssSpread ? formatSpread(rssSpread, 0, 1 / MB) : "-",
          ],
        ],
      },
    ],
    notes: [
      "Wall time from spawn to exit, TypeScript compiled on the fly by tsx (its cache warm after the first run), the default environment (dev).",
    ],
    targets: [
      {
        target: `npm run synth < ${SYNTH_TARGET_MS / 1000} s`,
        measured: `${(npmSpread.median / 1000).toFixed(2)} s median, ${(npmSpread.max / 1000).toFixed(2)} s worst`,
        met: quick ? undefined : npmSpread.median < SYNTH_TARGET_MS,
      },
    ],
    data: { npmRunSynthMs: npmSpread, nodeMainMs: directSpread, nodeMainPeakRssBytes: rssSpread },
  };
}
