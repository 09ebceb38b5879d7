/**
 * Finds and reads config/<env>.json. main.ts picks the environment from the
 * FACILITY_PIPELINE_ENV variable, else the `env` key of cdktf.json's context, else "dev".
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, parseConfig, type FacilityPipelineConfig } from "./schema";

export const CONFIG_DIR = __dirname;
export const DEFAULT_ENVIRONMENT = "dev";

/** The environments that have a config file, sorted. */
export function listEnvironments(dir = CONFIG_DIR): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.slice(0, -".json".length))
    .sort();
}

/** Reads and validates config/<environment>.json. */
export function loadConfig(environment: string, dir = CONFIG_DIR): FacilityPipelineConfig {
  const file = join(dir, `${environment}.json`);
  if (!/^[a-z0-9-]+$/.test(environment) || !existsSync(file)) {
    throw new ConfigError(
      `No configuration for environment "${environment}": expected ${file}. Known environments: ${listEnvironments(dir).join(", ") || "none"}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(parsed, file);
}
