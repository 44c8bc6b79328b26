import { App, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { ALARM_IDS, type AlarmId, alarmEntry } from '../../core/alarms/catalogue';
import { AlarmFactory, fillFigures } from '../../lib/constructs/alarm-factory';

const metric = new cloudwatch.Metric({ namespace: 'Test', metricName: 'Errors' });

/** A stack with the four topics and a factory naming alarms fa-ai-system-test-<id>. */
function setup() {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const topics = {
    P0: new sns.Topic(stack, 'P0'),
    P1: new sns.Topic(stack, 'P1'),
    P2: new sns.Topic(stack, 'P2'),
    P3: new sns.Topic(stack, 'P3'),
  };
  const factory = new AlarmFactory(stack, 'Alarms', { namePrefix: 'fa-ai-system-test-', topics });
  /** How the template refers to the topic of `severity`. */
  const ref = (severity: keyof typeof topics) => stack.resolve(topics[severity].topicArn);
  /** The synthesized template's resources of `type`, by logical id. */
  const resources = (type: string): Record<string, any>[] =>
    Object.values(
      app.synth().getStackByName(stack.stackName).template.Resources as Record<string, any>,
    ).filter((r) => r.Type === type);
  return { app, stack, factory, ref, resources };
}

/** Figures for every mark of the entry's meaning. */
function figuresOf(id: AlarmId): Record<string, string> {
  return Object.fromEntries([...alarmEntry(id).meaning.matchAll(/\{(\w+)\}/g)].map((m) => [m[1], 'X']));
}

/** Builds the catalogue's alarms, `except` those. */
function buildAll(factory: AlarmFactory, stack: Stack, except: readonly AlarmId[] = []): void {
  const ids = ALARM_IDS.filter((id) => !except.includes(id));
  for (const id of ids.filter((i) => alarmEntry(i).anyOf === undefined)) {
    factory.metricAlarm(stack, id, { metric, threshold: 1, figures: figuresOf(id) });
  }
  for (const id of ids.filter((i) => alarmEntry(i).anyOf !== undefined)) factory.compositeAlarm(stack, id);
}

// The first synth in a worker loads the cloud assembly writer: tens of seconds on a loaded machine.
describe('AlarmFactory', { timeout: 120_000 }, () => {
  it('fails synth while a catalogue entry has no alarm, naming it', () => {
    const { app, stack, factory } = setup();
    buildAll(factory, stack, ['cache-memory-high']);
    expect(() => app.synth()).toThrow(/alarm catalogue entry cache-memory-high has no alarm/);
  });

  it('names, describes and routes each alarm from its entry', () => {
    const { stack, factory, ref, resources } = setup();
    buildAll(factory, stack);
    const pool = resources('AWS::CloudWatch::Alarm').find(
      (r) => r.Properties.AlarmName === 'fa-ai-system-test-log-db-pool-exhausted',
    );
    expect(pool?.Properties).toMatchObject({
      AlarmDescription:
        'P1 X+ log lines matching X in X minutes. Runbook: Common Issues > Issue: "Database Connection Pool Exhausted".',
      AlarmActions: [ref('P1')],
    });
    expect(pool?.Properties.OKActions).toBeUndefined();
    expect(resources('AWS::CloudWatch::CompositeAlarm')[0]?.Properties).toMatchObject({
      AlarmName: 'fa-ai-system-test-p0',
      AlarmActions: [ref('P0')],
      OKActions: [ref('P0')],
    });
  });

  it('lets the parts of a composite page only through it', () => {
    const { stack, factory, resources } = setup();
    buildAll(factory, stack);
    const parts = resources('AWS::CloudWatch::Alarm').filter((a) =>
      ['fa-ai-system-test-zero-healthy-targets', 'fa-ai-system-test-5xx-storm'].includes(
        a.Properties.AlarmName,
      ),
    );
    expect(parts).toHaveLength(2);
    for (const part of parts) expect(part.Properties.AlarmActions).toBeUndefined();
  });

  it('refuses to build an alarm twice, or a composite before its parts', () => {
    const { stack, factory } = setup();
    expect(() => factory.compositeAlarm(stack, 'p0')).toThrow(
      'alarm p0: build its part zero-healthy-targets first',
    );
    factory.metricAlarm(stack, 'latency-p99', { metric, threshold: 5, figures: { seconds: 5 } });
    expect(() =>
      factory.metricAlarm(stack, 'latency-p99', {
        metric,
        threshold: 5,
        figures: { seconds: 5 },
        constructId: 'x',
      }),
    ).toThrow('alarm latency-p99 is built twice');
    expect(() => factory.metricAlarm(stack, 'p0', { metric, threshold: 1 })).toThrow('a composite');
  });

  it('puts every alarm on its dashboard row, in catalogue order', () => {
    const { stack, factory } = setup();
    const widgets = factory.dashboardWidgets();
    buildAll(factory, stack);
    const service = widgets[0]?.toJson()[0] as { properties: { title: string; alarms: unknown[] } };
    expect(service.properties.title).toBe('Alarms: service (P0, error rate, latency)');
    const names = service.properties.alarms.map((arn) => JSON.stringify(stack.resolve(arn)));
    expect(names[0]).toMatch(/^\{"Fn::GetAtt":\["p0[0-9A-F]{8}","Arn"\]\}$/);
    expect(names).toHaveLength(ALARM_IDS.filter((id) => alarmEntry(id).dashboard === 'service').length);
  });
});

describe('fillFigures', () => {
  it("puts the builder's figures into the meaning", () => {
    expect(fillFigures('x', 'error rate above {threshold}', { threshold: '10%' })).toBe(
      'error rate above 10%',
    );
    expect(fillFigures('x', '{count}+ lines matching {pattern}', { count: 5, pattern: '{ $.a = 1 }' })).toBe(
      '5+ lines matching { $.a = 1 }',
    );
  });

  it('refuses a missing figure, and one the meaning does not show', () => {
    expect(() => fillFigures('x', 'above {threshold}', {})).toThrow(
      'alarm x: its meaning "above {threshold}" needs the figures {threshold}; missing: threshold',
    );
    expect(() => fillFigures('x', 'failed', { threshold: 1 })).toThrow('not in the meaning: threshold');
  });
});
