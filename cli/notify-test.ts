/**
 * `notify-test`: publish a message marked as a test to the failure topic, so a team can check that
 * its subscriptions (email addresses must be confirmed first) receive failure notifications.
 */
import { hostname, userInfo } from "node:os";
import type { CommandOutput } from "./output";
import type { Target, TestNotification } from "../core/target";

/** Starts every test subject, so nobody takes a test for an incident. */
export const TEST_SUBJECT_PREFIX = "[TEST]";

export function testNotification(now = new Date(), sender = senderName()): TestNotification {
  return {
    // SNS subjects are at most 100 characters.
    subject: `${TEST_SUBJECT_PREFIX} Facility pipeline notification test - no action needed`,
    message: [
      "THIS IS A TEST. Nothing failed and no action is needed.",
      "",
      `It was sent with \`facility-pipeline notify-test\` by ${sender} at ${now.toISOString()}`,
      "to check that failure notifications of the healthcare facility pipeline reach this address.",
      "",
      'Real failure notifications have the subject "Facility pipeline failed in <state>" and name the',
      "object, the failed state, the error and the execution.",
    ].join("\n"),
  };
}

export async function notifyTest(target: Target, notification = testNotification()): Promise<CommandOutput> {
  const published = await target.publishTestNotification(notification);
  const where = published.outbox
    ? `Appended to ${published.outbox}`
    : "Every confirmed subscription should receive it within a minute; an email subscription that is still " +
      "pending confirmation receives nothing.";
  return {
    exitCode: 0,
    text: `Published test message ${published.messageId} to ${published.topicArn}\n  Subject: ${notification.subject}\n${where}\n`,
    json: {
      topicArn: published.topicArn,
      messageId: published.messageId,
      subject: notification.subject,
      ...(published.outbox ? { outbox: published.outbox } : {}),
    },
  };
}

function senderName(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return hostname();
  }
}
