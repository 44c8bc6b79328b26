import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { SEVERITIES, type Severity } from '../../core/alarms/catalogue';
import type { TopicArns } from '../../core/contracts/common';
import type { ResourceGrant } from './calls';

/** The runbook's severity levels (the alarm catalogue's). */
export { SEVERITIES, type Severity };

/** Properties of {@link AlertTopics}. */
export interface AlertTopicsProps {
  /** Prefix of the topic names, e.g. fa-ai-system-prod. */
  readonly namePrefix: string;
  readonly emails: readonly string[];
  /** Chat webhook (HTTPS) for P1 and P2. @default - P1/P2 go to email */
  readonly chatWebhookUrl?: string;
  /** Pager events endpoint (HTTPS) for P0 and P1. @default - P0/P1 go to email */
  readonly pagerEndpointUrl?: string;
  readonly retainData: boolean;
}

/**
 * Where alerts go, by the runbook's severity: P0 pages (15 minutes), P1 pages and posts to
 * chat (1 hour), P2 posts to chat (4 hours), P3 emails (next business day). The topics are
 * encrypted with a key that CloudWatch alarms and AWS Budgets may use; only this account's
 * alarms may publish to them, and its budgets to the two levels Budgets notifies.
 */
export class AlertTopics extends Construct {
  public readonly key: kms.Key;
  public readonly topics: Readonly<Record<Severity, sns.Topic>>;
  /** Each topic's ARN by severity, as the Lambdas' contracts and the ops manifest take them. */
  public readonly topicArns: TopicArns;

  constructor(scope: Construct, id: string, props: AlertTopicsProps) {
    super(scope, id);

    this.key = new kms.Key(this, 'Key', {
      description: `${props.namePrefix} alert topics`,
      enableKeyRotation: true,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch (alarm actions) and Budgets (notifications) encrypt what they publish with this
    // key. AWS documents these key statements without source conditions: the services do not
    // promise to pass aws:SourceAccount/aws:SourceArn to KMS, and a condition they do not meet
    // would silently drop every alarm. The topic policies below scope who may publish.
    for (const service of KEY_USERS) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Allow${service.split('.')[0]}ToPublishEncrypted`,
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          resources: ['*'],
        }),
      );
    }

    const make = (severity: Severity, description: string) => {
      const topic = new sns.Topic(this, severity, {
        topicName: `${props.namePrefix}-alerts-${severity.toLowerCase()}`,
        displayName: `FA AI ${severity}: ${description}`,
        masterKey: this.key,
        enforceSSL: true,
      });
      allowAlarmsToPublish(topic);
      if (BUDGETS_PUBLISH_TO.includes(severity)) allowBudgetsToPublish(topic);
      return topic;
    };
    this.topics = {
      P0: make('P0', 'critical, page'),
      P1: make('P1', 'high, page'),
      P2: make('P2', 'medium'),
      P3: make('P3', 'low'),
    };
    this.topicArns = {
      P0: this.topics.P0.topicArn,
      P1: this.topics.P1.topicArn,
      P2: this.topics.P2.topicArn,
      P3: this.topics.P3.topicArn,
    };

    const email = (topic: sns.Topic) => {
      for (const address of props.emails) topic.addSubscription(new subscriptions.EmailSubscription(address));
    };
    const https = (topic: sns.Topic, url: string | undefined) => {
      if (!url) return false;
      topic.addSubscription(
        new subscriptions.UrlSubscription(url, { protocol: sns.SubscriptionProtocol.HTTPS }),
      );
      return true;
    };
    // Email is the fallback of every level, so no alert ever goes nowhere.
    email(this.topics.P0);
    https(this.topics.P0, props.pagerEndpointUrl);
    const p1Paged = https(this.topics.P1, props.pagerEndpointUrl);
    const p1Chat = https(this.topics.P1, props.chatWebhookUrl);
    if (!p1Paged && !p1Chat) email(this.topics.P1);
    if (!https(this.topics.P2, props.chatWebhookUrl)) email(this.topics.P2);
    email(this.topics.P3);
  }

  /**
   * The grant of sns:Publish to the topics of `severities`, with the key use that publishing to
   * an SSE-KMS topic needs (for a declared `sns:Publish` call, see grantDeclaredCalls).
   */
  publishGrant(severities: readonly Severity[] = SEVERITIES): ResourceGrant {
    return {
      resources: severities.map((severity) => this.topics[severity].topicArn),
      companions: [{ actions: TOPIC_KEY_ACTIONS, resources: [this.key.keyArn] }],
    };
  }
}

/** What a publisher to an SSE-KMS topic needs on its key (SNS generates a data key and reads it). */
export const TOPIC_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;

/** The services that publish to the alert topics on their own and so must use their key. */
const KEY_USERS = ['cloudwatch.amazonaws.com', 'budgets.amazonaws.com'] as const;

/** The severities AWS Budgets notifies (75% and the forecast: P2; 90%: P1). */
const BUDGETS_PUBLISH_TO: readonly Severity[] = ['P1', 'P2'];

/**
 * Lets CloudWatch alarms of this account publish to `topic`. A topic policy replaces SNS's
 * default one, so without this statement every alarm action fails with "not authorized to
 * perform SNS:Publish".
 */
export function allowAlarmsToPublish(topic: sns.Topic): void {
  const stack = Stack.of(topic);
  allowServiceToPublish(
    topic,
    'AllowCloudWatchAlarmsToPublish',
    'cloudwatch.amazonaws.com',
    `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
  );
}

/**
 * Lets AWS Budgets of this account publish to `topic` (budgets.amazonaws.com, scoped with
 * aws:SourceAccount and aws:SourceArn as AWS recommends against the confused deputy).
 */
export function allowBudgetsToPublish(topic: sns.Topic): void {
  const stack = Stack.of(topic);
  allowServiceToPublish(
    topic,
    'AllowBudgetsToPublish',
    'budgets.amazonaws.com',
    `arn:${stack.partition}:budgets::${stack.account}:*`,
  );
}

/** Lets an AWS service publish to `topic` on behalf of this account's resources matching `sourceArn` only. */
function allowServiceToPublish(topic: sns.Topic, sid: string, service: string, sourceArn: string): void {
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid,
      principals: [new iam.ServicePrincipal(service)],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Stack.of(topic).account },
        ArnLike: { 'aws:SourceArn': sourceArn },
      },
    }),
  );
}
