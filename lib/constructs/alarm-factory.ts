import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, type IConstruct } from 'constructs';
import {
  ALARM_ENTRIES,
  ALARM_IDS,
  type AlarmEntry,
  type AlarmId,
  alarmDescription,
  alarmEntry,
  type Colour,
  DASHBOARD_ROWS,
  type DashboardRow,
  type Severity,
} from '../../core/alarms/catalogue';
import { type AlarmFactsDocument, alarmFactsDocument } from '../../core/alarms/facts';

/** Properties of {@link AlarmFactory}. */
export interface AlarmFactoryProps {
  /** e.g. fa-ai-system-prod-: every alarm is named `<namePrefix><id>`. */
  readonly namePrefix: string;
  /** The topic of each severity; an alarm notifies its severity's. */
  readonly topics: Readonly<Record<Severity, sns.ITopic>>;
}

/** The metric and threshold of one alarm: what the catalogue leaves to where the metric lives. */
export interface MetricAlarmSpec {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  /** @default GREATER_THAN_THRESHOLD */
  readonly comparison?: cloudwatch.ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default NOT_BREACHING */
  readonly missing?: cloudwatch.TreatMissingData;
  /** The figures the entry's meaning names, e.g. `{ threshold: '10%' }`. @default none */
  readonly figures?: Readonly<Record<string, string | number>>;
  /**
   * The construct id, where an alarm had one before the catalogue. An alarm's logical id must
   * not change: CloudFormation would create the "new" one (PutMetricAlarm overwrites the
   * alarm of that name) and then delete the old one, which deletes the alarm.
   * @default the alarm id
   */
  readonly constructId?: string;
}

type CreatedAlarm = cloudwatch.Alarm | cloudwatch.CompositeAlarm;

/**
 * Builds every alarm of the environment from its catalogue entry (core/alarms/catalogue.ts):
 * the name `<namePrefix><id>`, the description (severity, meaning, runbook section), the
 * action to the severity's topic (none for the parts of a composite alarm, which pages for
 * them) and its place on the dashboard. The alarms live in the scope of the construct that owns
 * their metric; synth fails when an entry of the catalogue got no alarm.
 */
export class AlarmFactory extends Construct {
  public readonly namePrefix: string;
  /** ALARM_FACTS: what the automation is told about every alarm (core/alarms/facts.ts). */
  public readonly facts: AlarmFactsDocument;

  private readonly topics: Readonly<Record<Severity, sns.ITopic>>;
  private readonly created = new Map<AlarmId, CreatedAlarm>();
  /** Read by the dashboard's widgets at synth (AlarmStatusWidget maps its array in toJson). */
  private readonly rows: Record<DashboardRow, cloudwatch.IAlarm[]>;

  constructor(scope: Construct, id: string, props: AlarmFactoryProps) {
    super(scope, id);
    this.namePrefix = props.namePrefix;
    this.topics = props.topics;
    this.facts = alarmFactsDocument(props.namePrefix, ALARM_ENTRIES);
    this.rows = Object.fromEntries(Object.keys(DASHBOARD_ROWS).map((row) => [row, []])) as unknown as Record<
      DashboardRow,
      cloudwatch.IAlarm[]
    >;
    this.node.addValidation({
      validate: () =>
        ALARM_IDS.filter((alarmId) => !this.created.has(alarmId)).map(
          (alarmId) =>
            `alarm catalogue entry ${alarmId} has no alarm: build it with AlarmFactory.metricAlarm or remove the entry`,
        ),
    });
  }

  /** The name of alarm `id`. */
  alarmName(id: AlarmId): string {
    return `${this.namePrefix}${id}`;
  }

  /** Creates the metric alarm of catalogue entry `id` in `scope`. */
  metricAlarm(scope: IConstruct, id: AlarmId, spec: MetricAlarmSpec): cloudwatch.Alarm {
    const entry = this.entry(id, 'metric');
    const evaluationPeriods = spec.evaluationPeriods ?? 1;
    const alarm = new cloudwatch.Alarm(scope, spec.constructId ?? id, {
      alarmName: this.alarmName(id),
      alarmDescription: alarmDescription(entry, fillFigures(id, entry.meaning, spec.figures ?? {})),
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      treatMissingData: spec.missing ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return this.register(id, entry, alarm);
  }

  /**
   * Creates the composite alarm of catalogue entry `id` (in ALARM when any of its `anyOf` is),
   * after those.
   */
  compositeAlarm(scope: IConstruct, id: AlarmId, options: { readonly constructId?: string } = {}) {
    const entry = this.entry(id, 'composite');
    const parts = (entry.anyOf ?? []).map((part) => {
      const alarm = this.created.get(part as AlarmId);
      if (alarm === undefined) throw new Error(`alarm ${id}: build its part ${part} first`);
      return cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM);
    });
    const alarm = new cloudwatch.CompositeAlarm(scope, options.constructId ?? id, {
      compositeAlarmName: this.alarmName(id),
      alarmRule: cloudwatch.AlarmRule.anyOf(...parts),
      alarmDescription: alarmDescription(entry, fillFigures(id, entry.meaning, {})),
    });
    return this.register(id, entry, alarm);
  }

  /** The alarm of `id`, once built. */
  alarm(id: AlarmId): cloudwatch.IAlarm {
    const alarm = this.created.get(id);
    if (alarm === undefined) throw new Error(`alarm ${id} is not built yet`);
    return alarm;
  }

  /** The built alarms whose entries match, in catalogue order. */
  alarmsWhere(match: (entry: AlarmEntry) => boolean): cloudwatch.IAlarm[] {
    return ALARM_IDS.filter((id) => match(alarmEntry(id))).map((id) => this.alarm(id));
  }

  /** The alarms a traffic shift to `colour` is gated on besides those of both colours. */
  shiftGates(colour: Colour): cloudwatch.IAlarm[] {
    return this.alarmsWhere((entry) => entry.gatesShift === true && entry.colour === colour);
  }

  /**
   * The dashboard's alarm rows, one alarm status widget each, sized for the entries placed on
   * it. They list the alarms as they are built, so they may be added before the alarms are.
   */
  dashboardWidgets(): cloudwatch.IWidget[] {
    return (Object.entries(DASHBOARD_ROWS) as Array<[DashboardRow, string]>).map(([row, title]) => {
      const count = ALARM_IDS.filter((id) => alarmEntry(id).dashboard === row).length;
      return new cloudwatch.AlarmStatusWidget({
        title,
        alarms: this.rows[row],
        width: 24,
        // Tiles run four to a row at full width, under the title.
        height: 2 + Math.ceil(count / 4),
      });
    });
  }

  private entry(id: AlarmId, kind: 'metric' | 'composite'): AlarmEntry {
    const entry = alarmEntry(id);
    if ((entry.anyOf !== undefined) !== (kind === 'composite')) {
      throw new Error(`alarm ${id} is ${entry.anyOf ? 'a composite' : 'a metric'} alarm in the catalogue`);
    }
    if (this.created.has(id)) throw new Error(`alarm ${id} is built twice`);
    return entry;
  }

  private register<A extends CreatedAlarm>(id: AlarmId, entry: AlarmEntry, alarm: A): A {
    // The parts of a composite page once, through it.
    const isPart = ALARM_IDS.some((other) => alarmEntry(other).anyOf?.includes(id) === true);
    if (!isPart) {
      const topic = new cwActions.SnsAction(this.topics[entry.severity]);
      alarm.addAlarmAction(topic);
      if (entry.notifyOk) alarm.addOkAction(topic);
    }
    this.created.set(id, alarm);
    const row = this.rows[entry.dashboard];
    row.push(alarm);
    const order = (a: cloudwatch.IAlarm) => ALARM_IDS.findIndex((other) => this.created.get(other) === a);
    row.sort((a, b) => order(a) - order(b));
    return alarm;
  }
}

/**
 * The meaning with its `{name}` marks replaced by `figures`; throws when a mark has no figure or
 * a figure no mark (a threshold that would silently not be shown).
 */
export function fillFigures(
  id: string,
  meaning: string,
  figures: Readonly<Record<string, string | number>>,
): string {
  const marks = new Set([...meaning.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string));
  const missing = [...marks].filter((mark) => !(mark in figures));
  const unused = Object.keys(figures).filter((name) => !marks.has(name));
  if (missing.length > 0 || unused.length > 0) {
    throw new Error(
      `alarm ${id}: its meaning "${meaning}" needs the figures {${[...marks].join('}, {')}}` +
        `${missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''}` +
        `${unused.length > 0 ? `; not in the meaning: ${unused.join(', ')}` : ''}`,
    );
  }
  return meaning.replace(/\{(\w+)\}/g, (_, mark: string) => String(figures[mark]));
}
