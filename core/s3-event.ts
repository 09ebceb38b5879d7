/**
 * The input EventBridge delivers to the state machine for an S3 "Object Created" event
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html). One definition for the
 * local runner, which starts an execution per upload, and the replay subcommand, which starts
 * executions for objects already in the bucket.
 */
import { randomUUID } from "node:crypto";

/** The object version an event announces. */
export interface CreatedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** Without the surrounding quotes, as EventBridge sends it. */
  readonly etag: string;
  /** Absent when the bucket is not versioned. */
  readonly versionId?: string;
  /** ISO 8601: when this version was written; the event's time. */
  readonly lastModified?: string;
}

/** Where the event comes from. */
export interface EventOrigin {
  readonly account: string;
  readonly region: string;
  /** @default "aws" */
  readonly partition?: string;
}

export interface ObjectCreatedEventOptions {
  /** Sets `replay-name`, the field EventBridge itself sets on events replayed from an archive. */
  readonly replayName?: string;
  /** The S3 sequencer of a live upload; a replay cannot know it. @default - none */
  readonly sequencer?: string;
  /** The event's time when the object has no lastModified. @default - now */
  readonly now?: Date;
}

/** The EventBridge "Object Created" event for one object version. The key is not URL-encoded. */
export function objectCreatedEvent(
  object: CreatedObject,
  origin: EventOrigin,
  options: ObjectCreatedEventOptions = {},
): Record<string, unknown> {
  const time = (object.lastModified ? new Date(object.lastModified) : (options.now ?? new Date()))
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z");
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Object Created",
    source: "aws.s3",
    account: origin.account,
    time,
    region: origin.region,
    resources: [`arn:${origin.partition ?? "aws"}:s3:::${object.bucket}`],
    ...(options.replayName ? { "replay-name": options.replayName } : {}),
    detail: {
      version: "0",
      bucket: { name: object.bucket },
      object: {
        key: object.key,
        size: object.size,
        etag: object.etag,
        ...(object.versionId ? { "version-id": object.versionId } : {}),
        ...(options.sequencer ? { sequencer: options.sequencer } : {}),
      },
      "request-id": randomUUID(),
      requester: origin.account,
      reason: "PutObject",
    },
  };
}
