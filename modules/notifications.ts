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
  /** Each address gets an email subscription; a Terraform list works too. @default [] */
  readonly emails?: readonly string[];
}

/**
 * An SNS topic `<namePrefix>-facility-pipeline-<purpose>`. Not the AWS managed key alias/aws/sns:
 * its key policy cannot let cloudwatch.amazonaws.com use it, so alarm notifications would be
 * dropped silently. The customer managed key here rotates yearly.
 */
export class NotificationTopic extends Construct {
  /** The created topic; undefined for an existing one. */
  readonly topic?: SnsTopic;
  readonly topicArn: string;
  /** The created key; undefined when a key or a topic was brought. */
  readonly key?: KmsKey;
  /** The key the topic is encrypted with, when known. */
  readonly keyArn?: string;

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);
    if (props.existingTopicArn !== undefined) {
      this.topicArn = props.existingTopicArn;
      this.keyArn = props.kmsKeyArn;
    } else {
      const created = this.createTopic(props);
      this.topic = created.topic;
      this.topicArn = created.topic.arn;
      this.key = created.key;
      this.keyArn = created.keyArn;
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

  private createTopic(props: NotificationTopicProps): { topic: SnsTopic; key?: KmsKey; keyArn: string } {
    const purpose = PURPOSES[props.purpose];
    const accountRoot = `arn:${props.partition}:iam::${props.accountId}:root`;
    const key = props.kmsKeyArn === undefined ? this.createKey(props, accountRoot) : undefined;
    const keyArn = key?.arn ?? props.kmsKeyArn!;

    const topic = new SnsTopic(this, "topic", {
      name: `${props.namePrefix}-facility-pipeline-${props.purpose}`,
      displayName: purpose.displayName,
      kmsMasterKeyId: keyArn,
    });

    new SnsTopicPolicy(this, "topic-policy", {
      arn: topic.arn,
      policy: renderPolicy(
        policyDocument(
          {
            Sid: "AccountPublishes",
            Effect: "Allow",
            Principal: { AWS: accountRoot },
            Action: ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
            Resource: topic.arn,
          },
          ...(purpose.alarms
            ? [
                {
                  Sid: "CloudWatchAlarmsPublish",
                  Effect: "Allow",
                  Principal: { Service: "cloudwatch.amazonaws.com" },
                  Action: "sns:Publish",
                  Resource: topic.arn,
                  Condition: { StringEquals: { "aws:SourceAccount": props.accountId } },
                } as const,
              ]
            : []),
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "sns:Publish",
            Resource: topic.arn,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ),
      ),
    });
    return { topic, key, keyArn };
  }

  private createKey(props: NotificationTopicProps, accountRoot: string): KmsKey {
    const key = new KmsKey(this, "key", {
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
      name: `alias/${props.namePrefix}-facility-pipeline-${PURPOSES[props.purpose].keyAlias}`,
      targetKeyId: key.keyId,
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
