/**
 * The two topics, for two audiences: the failure topic (the platform team: the workflows'
 * NotifyFailure states and the CloudWatch alarms publish there) and the compliance topic (the
 * people who act on expiries: the weekly expiry digest). Each is encrypted with a customer managed
 * key that CloudWatch is allowed to use; either may be brought instead.
 */
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { TerraformIterator } from "cdktf";
import { Construct } from "constructs";
import {
  allOf,
  anyOf,
  attributeOfOptional,
  countWhile,
  decidedAtPlan,
  givenOrCreated,
  isNull,
  not,
  presenceOf,
  type Presence,
} from "./byo";
import { policyDocument, renderPolicy } from "./policy-document";

/** What each topic is for: its name, display name, and whether CloudWatch alarms publish to it. */
const PURPOSES = {
  failures: { displayName: "Facility pipeline failures", alarms: true, keyAlias: "notifications" },
  compliance: { displayName: "Accreditation expiry digest", alarms: false, keyAlias: "compliance" },
} as const;
export type TopicPurpose = keyof typeof PURPOSES;

export interface FailureTopicProps {
  /** Prefix of the topic and key alias names. */
  readonly namePrefix: string;
  /** The AWS account and partition the stack deploys to. */
  readonly accountId: string;
  readonly partition: string;
  /**
   * Each address gets an email subscription (the owner confirms it by email). A Terraform list
   * (a variable's value) works too.
   * @default []
   */
  readonly alertEmails?: readonly string[];
  /**
   * Publish to this existing topic instead of creating one. If it is encrypted, pass its key as
   * `kmsKeyArn` so the state machine may use it.
   * @default - a topic is created
   */
  readonly existingTopicArn?: string;
  /**
   * Encrypt the topic with this existing key instead of creating one. Its key policy must let
   * cloudwatch.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*), or alarms are dropped.
   * @default - a customer managed key with rotation is created
   */
  readonly kmsKeyArn?: string;
}

export interface NotificationTopicProps extends Omit<FailureTopicProps, "alertEmails"> {
  readonly purpose: TopicPurpose;
  /**
   * Whether `kmsKeyArn` is there, when that is not plain (another topic's key that Terraform
   * creates only sometimes). @default - given means there, a module variable while not null
   */
  readonly kmsKeyPresent?: Presence;
  /** Each address gets an email subscription; a Terraform list works too. @default [] */
  readonly emails?: readonly string[];
}

/**
 * An SNS topic `<namePrefix>-facility-pipeline-<purpose>`. Not the AWS managed key alias/aws/sns:
 * its key policy cannot let cloudwatch.amazonaws.com use it, so alarm notifications would be
 * dropped silently. The customer managed key here rotates yearly.
 */
export class NotificationTopic extends Construct {
  /** The created topic; undefined for an existing one (created 0 or 1 times when Terraform decides). */
  readonly topic?: SnsTopic;
  readonly topicArn: string;
  /** The created key; undefined when a key or a topic was brought. */
  readonly key?: KmsKey;
  /** The key the topic is encrypted with, when known. */
  readonly keyArn?: string;
  /** Whether `keyArn` is there: a condition when module variables decide it (modules/byo.ts). */
  readonly keyPresent: Presence;

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);
    const existing = props.existingTopicArn;
    const keyGiven = props.kmsKeyArn === undefined ? false : (props.kmsKeyPresent ?? presenceOf(props.kmsKeyArn));
    if (existing !== undefined && !decidedAtPlan(existing)) {
      this.topicArn = existing;
      this.keyArn = props.kmsKeyArn;
      this.keyPresent = keyGiven;
    } else {
      // Without an existing topic (or while a module variable leaves it null): a topic, and a key
      // unless one is given.
      const topicCreated: Presence = existing === undefined ? true : isNull(existing);
      const createsKey = allOf(topicCreated, not(keyGiven));
      const accountRoot = `arn:${props.partition}:iam::${props.accountId}:root`;
      const key = createsKey === false ? undefined : this.createKey(props, accountRoot, countWhile(createsKey));
      if (key === undefined) this.keyArn = props.kmsKeyArn;
      else if (createsKey === true) this.keyArn = key.arn;
      else this.keyArn = givenOrCreated(props.kmsKeyArn, key, "arn");
      this.key = createsKey === true ? key : undefined;
      this.keyPresent = anyOf(keyGiven, createsKey);
      const topic = this.createTopic(props, this.keyArn!, countWhile(topicCreated));
      if (topicCreated === true) {
        this.topic = topic;
        this.topicArn = topic.arn;
      } else {
        this.topicArn = givenOrCreated(existing, topic, "arn");
      }
    }

    // for_each keyed by address: removing one address does not replace (unsubscribe) the others.
    const emails = TerraformIterator.fromList([...(props.emails ?? [])]);
    new SnsTopicSubscription(this, "email", {
      forEach: emails,
      topicArn: this.topicArn,
      protocol: "email",
      endpoint: emails.value,
    });
  }

  private createTopic(props: NotificationTopicProps, keyArn: string, count: number | undefined): SnsTopic {
    const purpose = PURPOSES[props.purpose];
    const accountRoot = `arn:${props.partition}:iam::${props.accountId}:root`;
    const topic = new SnsTopic(this, "topic", {
      count,
      name: `${props.namePrefix}-facility-pipeline-${props.purpose}`,
      displayName: purpose.displayName,
      kmsMasterKeyId: keyArn,
    });
    // With a count, the policy refers to the topic by its (single) instance's ARN.
    const topicArn = count === undefined ? topic.arn : attributeOfOptional(topic, "arn");

    new SnsTopicPolicy(this, "topic-policy", {
      count,
      arn: topicArn,
      policy: renderPolicy(
        policyDocument(
          {
            Sid: "AccountPublishes",
            Effect: "Allow",
            Principal: { AWS: accountRoot },
            Action: ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
            Resource: topicArn,
          },
          ...(purpose.alarms
            ? [
                {
                  Sid: "CloudWatchAlarmsPublish",
                  Effect: "Allow",
                  Principal: { Service: "cloudwatch.amazonaws.com" },
                  Action: "sns:Publish",
                  Resource: topicArn,
                  Condition: { StringEquals: { "aws:SourceAccount": props.accountId } },
                } as const,
              ]
            : []),
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "sns:Publish",
            Resource: topicArn,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ),
      ),
    });
    return topic;
  }

  private createKey(props: NotificationTopicProps, accountRoot: string, count: number | undefined): KmsKey {
    const key = new KmsKey(this, "key", {
      count,
      description: `Encrypts ${props.namePrefix} facility pipeline ${props.purpose === "failures" ? "failure notifications" : "compliance digests"}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: renderPolicy(
        policyDocument(
          {
            // Lets the account's IAM policies grant use of the key (the state machine role does).
            Sid: "AccountAdministersAndDelegates",
            Effect: "Allow",
            Principal: { AWS: accountRoot },
            Action: [
              "kms:Create*",
              "kms:Describe*",
              "kms:Enable*",
              "kms:List*",
              "kms:Put*",
              "kms:Update*",
              "kms:Revoke*",
              "kms:Disable*",
              "kms:Get*",
              "kms:Delete*",
              "kms:TagResource",
              "kms:UntagResource",
              "kms:ScheduleKeyDeletion",
              "kms:CancelKeyDeletion",
              "kms:RotateKeyOnDemand",
              "kms:Encrypt",
              "kms:Decrypt",
              "kms:ReEncrypt*",
              "kms:GenerateDataKey*",
            ],
            Resource: "*",
          },
          {
            Sid: "CloudWatchAlarmsPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
            Condition: { StringEquals: { "aws:SourceAccount": props.accountId } },
          },
        ),
      ),
    });
    new KmsAlias(this, "key-alias", {
      count,
      name: `alias/${props.namePrefix}-facility-pipeline-${PURPOSES[props.purpose].keyAlias}`,
      targetKeyId: count === undefined ? key.keyId : attributeOfOptional(key, "key_id"),
    });
    return key;
  }
}

/** The failure topic: the workflows' NotifyFailure states and every alarm publish here. */
export class FailureTopic extends NotificationTopic {
  constructor(scope: Construct, id: string, props: FailureTopicProps) {
    const { alertEmails, ...rest } = props;
    super(scope, id, { ...rest, purpose: "failures", emails: alertEmails });
  }
}

export interface ComplianceTopicProps extends Omit<FailureTopicProps, "alertEmails"> {
  /** Whether `kmsKeyArn` is there (the failure topic's key may be created only sometimes). */
  readonly kmsKeyPresent?: Presence;
  /** Each address gets an email subscription to the digest. @default [] */
  readonly complianceEmails?: readonly string[];
}

/**
 * The compliance topic: the weekly expiry digest (state-machines/expiry-digest.asl.json) publishes
 * here, and nothing else does, so the people who act on expiries are not paged for failures.
 */
export class ComplianceTopic extends NotificationTopic {
  constructor(scope: Construct, id: string, props: ComplianceTopicProps) {
    const { complianceEmails, ...rest } = props;
    super(scope, id, { ...rest, purpose: "compliance", emails: complianceEmails });
  }
}
