/**
 * What a replay sends to the state machine: the input EventBridge delivers for an S3
 * "Object Created" event, and an execution name that identifies the object version, so the same
 * version is not started twice (Step Functions refuses a second execution with the same name).
 */
import { createHash } from "node:crypto";
import { DATA_PREFIXES } from "./data-layout";
import { objectCreatedEvent, type EventOrigin } from "./s3-event";
import { settingsField, type RunSettings } from "./settings";

export type { EventOrigin };
import type { SourceObject } from "./target";

/** Step Functions' limit on execution names. */
export const MAX_EXECUTION_NAME_LENGTH = 80;
/** Hex digits of the SHA-256 of key, version and label kept in a name: 64 bits. */
const HASH_LENGTH = 16;
/** Set as the event's `replay-name`, the field EventBridge itself sets on events replayed from an archive. */
export const REPLAY_NAME = "facility-pipeline-replay";

export const LABEL_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * The execution name for replaying one object version: the readable end of the key and a hash
 * of the key, the version id (the ETag when the bucket is not versioned) and the label. At most
 * 80 characters of [A-Za-z0-9_-], so CloudWatch Logs accepts it too.
 *
 * A label (e.g. "fix-142") gives another name for the same version: how to run it again on
 * purpose, after fixing a bug.
 */
export function replayExecutionName(
  object: Pick<SourceObject, "key" | "etag" | "versionId">,
  label?: string,
  settings: RunSettings = {},
): string {
  const version = object.versionId ? `version:${object.versionId}` : `etag:${object.etag}`;
  // Pinned settings give another answer for the same version, so another name; none, the same as before.
  const pinned = settingsField(settings).settings;
  const hash = createHash("sha256")
    .update(`${object.key}\u0000${version}\u0000${label ?? ""}${pinned ? `\u0000${JSON.stringify(pinned)}` : ""}`)
    .digest("hex")
    .slice(0, HASH_LENGTH);
  const prefix = label ? `${label}-` : "";
  const readable = (object.key.startsWith(DATA_PREFIXES.raw) ? object.key.slice(DATA_PREFIXES.raw.length) : object.key)
    .replace(/[^A-Za-z0-9_-]+/g, "_")
    .replace(/^_+|_+$/g, "");
  const room = MAX_EXECUTION_NAME_LENGTH - prefix.length - 1 - HASH_LENGTH;
  // The end of the key (the file name) tells objects apart better than its start (raw/...).
  const tail = readable.length > room ? readable.slice(readable.length - room).replace(/^[_-]+/, "") : readable;
  return `${prefix}${tail ? `${tail}-` : ""}${hash}`;
}

/** The EventBridge input for replaying one object version, marked with `replay-name`. */
export function replayEvent(
  object: SourceObject,
  origin: EventOrigin,
  now = new Date(),
  settings: RunSettings = {},
): Record<string, unknown> {
  return { ...objectCreatedEvent(object, origin, { replayName: REPLAY_NAME, now }), ...settingsField(settings) };
}

/** The parts of a state machine ARN: arn:<partition>:states:<region>:<account>:stateMachine:<name>. */
export function parseStateMachineArn(
  arn: string,
): { partition: string; region: string; account: string; name: string } | undefined {
  const match = /^arn:([^:]+):states:([^:]+):(\d{12}):stateMachine:([A-Za-z0-9_-]+)$/.exec(arn);
  return match ? { partition: match[1], region: match[2], account: match[3], name: match[4] } : undefined;
}

/** The ARN Step Functions gives the execution `name` of a state machine. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
}
