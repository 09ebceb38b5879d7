import type { Provenance } from "../../lambdas/filter-expiring/filter-facilities";

/** The provenance a benchmark's staged records carry: one upload of `source`, at a fixed time. */
export function benchProvenance(source: string): Provenance {
  return {
    source_key: `raw/${source.split("/").pop()}`,
    source_version: "etag:0123456789abcdef0123456789abcdef",
    event_time: "2026-11-26T14:24:24.000Z",
    sequencer: "0".repeat(14) + "0066F1A2B3C4D5E6F7",
  };
}
