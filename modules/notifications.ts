/**
 * The failure topic: where the state machine's NotifyFailure state and the CloudWatch alarms
 * publish, encrypted with a customer managed key that CloudWatch is allowed to use.
 */
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import { policyDocument, renderPolicy } from "./policy-document";

export interface FailureTopicProps {
  /** Prefix of the topic and key alias names. */
  readonly namePrefix: string;
  /** The AWS account and partition the stack deploys to. */
  readonly accountId: string;
  readonly partition: string;
  /** Each address gets an email subscription (the owner confirms it by email). @default [] */
  readonly alertEmails?: readonly string[];
}

/**
 * An SNS topic `<namePrefix>-facility-pipeline-failures`. Not the AWS managed key alias/aws/sns:
 * its key policy cannot let cloudwatch.amazonaws.com use it, so alarm notifications would be
 * dropped silently. The customer managed key here rotates yearly.
 */
export class FailureTopic extends Construct {
  readonly topic: SnsTopic;
  readonly topicArn: string;
  readonly key: KmsKey;
  readonly keyArn: string;

  constructor(scope: Construct, id: string, props: FailureTopicProps) {
    super(scope, id);
    const accountRoot = `arn:${props.partition}:iam::${props.accountId}:root`;

    this.key = new KmsKey(this, "key", {
      description: `Encrypts ${props.namePrefix} facility pipeline failure notifications`,
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
    this.keyArn = this.key.arn;
    new KmsAlias(this, "key-alias", {
      name: `alias/${props.namePrefix}-facility-pipeline-notifications`,
      targetKeyId: this.key.keyId,
    });

    this.topic = new SnsTopic(this, "topic", {
      name: `${props.namePrefix}-facility-pipeline-failures`,
      displayName: "Facility pipeline failures",
      kmsMasterKeyId: this.key.arn,
    });
    this.topicArn = this.topic.arn;

    new SnsTopicPolicy(this, "topic-policy", {
      arn: this.topic.arn,
      policy: renderPolicy(
        policyDocument(
          {
            Sid: "AccountPublishes",
            Effect: "Allow",
            Principal: { AWS: accountRoot },
            Action: ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
            Resource: this.topic.arn,
          },
          {
            Sid: "CloudWatchAlarmsPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Resource: this.topic.arn,
            Condition: { StringEquals: { "aws:SourceAccount": props.accountId } },
          },
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "sns:Publish",
            Resource: this.topic.arn,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ),
      ),
    });

    // Ids derive from the address, not the position: removing one address must not replace
    // (and so unsubscribe) the others.
    for (const email of new Set(props.alertEmails ?? [])) {
      new SnsTopicSubscription(this, `email-${email}`, {
        topicArn: this.topic.arn,
        protocol: "email",
        endpoint: email,
      });
    }
  }
}
