// Preloaded into a measured child (node --import): on exit, writes the process's peak RSS in
// bytes to the file named by FACILITY_BENCH_RSS_OUT.
import { writeFileSync } from "node:fs";

const out = process.env.FACILITY_BENCH_RSS_OUT;
process.on("exit", () => {
  if (out) writeFileSync(out, String(process.resourceUsage().maxRSS * 1024));
});
