import { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { BARE_NODE_QUEUE, BARE_QUEUE, startBare } from './bare';
import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { isTerminalOperationStatus, type OperationStatus } from '@vmops/contracts';
import { OPERATION_EVENTS_CHANNEL, parseOperationEventNotice } from '@vmops/persistence';
import {
  api,
  cpuByKind,
  createVms,
  enlargeNodes,
  percentile,
  postRetrying,
  QUICK,
  report,
  round,
  startBenchStack,
  type BenchStack,
} from './support';

/**
 * Operations against bare Temporal, side by side in one run on one dev server:
 * - sequential latency per type (POST → /wait answered) vs a bare workflow of the same shape (its activities as
 *   no-ops, on one queue: "bare"; with the driver steps on a second queue like a node's: "split");
 * - throughput at N concurrent stop/start vs N concurrent bare workflows of that shape;
 * - history events and bytes per type vs bare;
 * - /wait's answer after an operation's end vs that end's announcement reaching a plain listener (endAnnouncements).
 * `--quick` runs small sizes (CI smoke); `--throughput` only the concurrent runs (after two warm-up rounds);
 * docs/performance.md has the full run.
 */
const THROUGHPUT_ONLY = process.argv.includes('--throughput');

interface Shape {
  /**
   * 'local' (the shared worker: a local activity of ours, or an activity on the shared queue) or 'node' (an agent),
   * per activity, in order. A bare baseline runs every one of them as an activity of its own.
   */
  steps: ('local' | 'node')[];
  events: number;
  bytes: number;
  /** Where the bytes are: what we choose to put in a history, beyond what any workflow of the shape has. */
  extras: { searchAttributes: number; patches: number; retryPolicies: number; summaries: number; payloads: number };
  /** Milliseconds from the workflow's start to its close, as its history has them. */
  workflowMs: number;
  /**
   * Milliseconds its activities ran (started → completed), summed, on the shared queue and on the agents; local
   * activities run inside workflow tasks and are not in these.
   */
  localActivityMs: number;
  nodeActivityMs: number;
  /**
   * Its workflow tasks, started → completed, in milliseconds: those that ran no local activity (they only decide the
   * next step), and those that ran inventory steps as local activities (their work included).
   */
  workflowTasksMs: { deciding: number[]; withLocalSteps: number[] };
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** The marker the SDK records for a local activity (Core's name). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

async function shapeOf(client: Client, workflowId: string, sharedQueue: string): Promise<Shape> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const steps: Shape['steps'] = [];
  const events = history.events ?? [];
  const kindOf = new Map<string, 'local' | 'node'>();
  const startedAt = new Map<string, number>();
  let localActivityMs = 0;
  let nodeActivityMs = 0;
  // A local activity's marker names the workflow task that ran it (recorded when that task completed).
  const localStepsOf = new Set(
    events
      .filter((e) => e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER)
      .map((e) => String(e.markerRecordedEventAttributes?.workflowTaskCompletedEventId)),
  );
  const workflowTasksMs: Shape['workflowTasksMs'] = { deciding: [], withLocalSteps: [] };
  let taskStartedAt = 0;
  for (const event of events) {
    if (event.workflowTaskStartedEventAttributes) taskStartedAt = ms(event.eventTime);
    if (event.workflowTaskCompletedEventAttributes) {
      const took = ms(event.eventTime) - taskStartedAt;
      (localStepsOf.has(String(event.eventId)) ? workflowTasksMs.withLocalSteps : workflowTasksMs.deciding).push(took);
    }
    const id = String(event.eventId);
    // An inventory step run as a local activity: one marker, written when its workflow task completes. Its time is
    // spent inside that workflow task, so the history cannot tell it apart: it counts under "workflow tasks".
    if (event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) {
      steps.push('local');
      continue;
    }
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const kind = scheduled.taskQueue?.name === sharedQueue ? 'local' : 'node';
      steps.push(kind);
      kindOf.set(id, kind);
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) startedAt.set(String(started.scheduledEventId), ms(event.eventTime));
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const scheduledId = String(completed.scheduledEventId);
      const ran = ms(event.eventTime) - (startedAt.get(scheduledId) ?? ms(event.eventTime));
      if (kindOf.get(scheduledId) === 'local') localActivityMs += ran;
      else nodeActivityMs += ran;
    }
  }
  const sizeOf = <T>(type: { encode(m: T): { finish(): Uint8Array } }, m: T | null | undefined) => (m ? type.encode(m).finish().length : 0);
  const v1 = temporal.api;
  const extras = { searchAttributes: 0, patches: 0, retryPolicies: 0, summaries: 0, payloads: 0 };
  const payloads = (p: temporal.api.common.v1.IPayloads | null | undefined) => sizeOf(v1.common.v1.Payloads, p);
  for (const event of events) {
    extras.summaries += sizeOf(v1.sdk.v1.UserMetadata, event.userMetadata);
    extras.searchAttributes += sizeOf(v1.common.v1.SearchAttributes, event.workflowExecutionStartedEventAttributes?.searchAttributes);
    extras.payloads +=
      payloads(event.workflowExecutionStartedEventAttributes?.input) + payloads(event.activityTaskScheduledEventAttributes?.input);
    extras.payloads +=
      payloads(event.activityTaskCompletedEventAttributes?.result) + payloads(event.workflowExecutionCompletedEventAttributes?.result);
    // A local activity's marker holds its result (its input is not recorded).
    if (event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER)
      extras.payloads += payloads(event.markerRecordedEventAttributes.details?.result);
    extras.retryPolicies += sizeOf(v1.common.v1.RetryPolicy, event.activityTaskScheduledEventAttributes?.retryPolicy);
    const upsert = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes;
    if (event.markerRecordedEventAttributes?.markerName === 'core_patch') extras.patches += sizeOf(v1.history.v1.HistoryEvent, event);
    else if (upsert?.indexedFields && 'TemporalChangeVersion' in upsert.indexedFields)
      extras.patches += sizeOf(v1.history.v1.HistoryEvent, event);
    else if (upsert) extras.searchAttributes += sizeOf(v1.common.v1.SearchAttributes, upsert);
  }
  return {
    steps,
    events: events.length,
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    extras,
    workflowMs: ms(events[events.length - 1]?.eventTime) - ms(events[0]?.eventTime),
    localActivityMs,
    nodeActivityMs,
    workflowTasksMs,
  };
}

/**
 * The baseline of /wait's lag: the announcement of the operation's end itself (the NOTIFY of its final event, which
 * the commit of the final record delivers), timed to its arrival at a plain client of this process that LISTENs and
 * does nothing else. That is /wait without the API (its listener, its read of the record, the HTTP answer), at the
 * same moment and under the same load as the /wait it stands beside.
 */
async function endAnnouncements(
  stack: BenchStack,
): Promise<{ arrivedAt(operationId: string): number | undefined; close(): Promise<void> }> {
  const listener = new PgClient({ connectionString: stack.databaseUrl });
  await listener.connect();
  await listener.query(`LISTEN ${OPERATION_EVENTS_CHANNEL}`);
  const arrived = new Map<string, number>();
  listener.on('notification', (n) => {
    const notice = n.payload ? parseOperationEventNotice(n.payload) : null;
    if (notice && isTerminalOperationStatus(notice.status as OperationStatus)) arrived.set(notice.operationId, Date.now());
  });
  return { arrivedAt: (id) => arrived.get(id), close: () => listener.end() };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const sequential = THROUGHPUT_ONLY ? 0 : QUICK ? 5 : 100;
  const concurrency = QUICK ? [20] : [200, 1000];
  // Snapshots are capped per VM; the sequential run takes more than the default cap on one VM.
  const stack = await startBenchStack({ SNAPSHOT_LIMIT_PER_VM: '10000' });
  const bare = await startBare(stack.temporalAddress);
  const { client } = bare;
  /** The end of each operation as announced to a plain listener: /wait's baseline (see endAnnouncements). */
  const announcements = await endAnnouncements(stack);
  try {
    await enlargeNodes(stack);
    const [vmId] = await createVms(stack, 1, { start: true });

    /** How long after its finished_at each operation's /wait answered, and its announcement arrived (this machine's clock, for all). */
    const waitLags: number[] = [];
    const announcedLags: number[] = [];
    /** Starts the API refused with 503 (Temporal, or a database connection, not there in time), by error code; each was sent again. */
    let retried503: Record<string, number> = {};
    /** How long each POST took to be answered 202 (its 503s and the sends again included). */
    let acceptedMs: number[] = [];
    /** One operation through the API: POST, then /wait; resolves to its latency and workflow id. */
    const runOp = async (method: string, route: string, body: unknown) => {
      const t0 = performance.now();
      const posted = await postRetrying(stack, method, route, body, (code) => (retried503[code] = (retried503[code] ?? 0) + 1));
      acceptedMs.push(performance.now() - t0);
      let done = await api(stack, 'GET', `/v1/operations/${posted.body.id}/wait?timeout=120`);
      // Under a thousand at once an operation may take longer than one /wait: wait again.
      while (!done.body.finishedAt && performance.now() - t0 < 30 * 60_000)
        done = await api(stack, 'GET', `/v1/operations/${posted.body.id}/wait?timeout=120`);
      const ms = performance.now() - t0;
      const [answeredAt, finishedAt] = [Date.now(), Date.parse(done.body.finishedAt)];
      waitLags.push(answeredAt - finishedAt);
      // The announcement reaches this process's listener about when the API's: give it a moment, then read it.
      let announcedAt = announcements.arrivedAt(posted.body.id);
      for (let i = 0; announcedAt === undefined && i < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        announcedAt = announcements.arrivedAt(posted.body.id);
      }
      if (announcedAt !== undefined) announcedLags.push(announcedAt - finishedAt);
      if (done.body.status !== 'succeeded') throw new Error(`${route} ended ${done.body.status}: ${JSON.stringify(done.body.error)}`);
      return { ms, workflowId: decodeURIComponent(String(done.body.links.temporalUi).split('/workflows/')[1]) };
    };
    const queuesOf = (steps: Shape['steps'], split: boolean) => steps.map((s) => (split && s === 'node' ? BARE_NODE_QUEUE : BARE_QUEUE));
    const runBare = (steps: Shape['steps'], split: boolean) => bare.run(queuesOf(steps, split));
    const bareHistory = async (steps: Shape['steps'], split = false) =>
      shapeOf(client, await bare.runWithId(queuesOf(steps, split)), BARE_QUEUE);

    // One round: stop, start, snapshot, and a new-disk rollback to that snapshot; the VM ends each round as it began.
    const round1 = async () => {
      const stop = await runOp('POST', `/v1/vms/${vmId}/stop`, {});
      const start = await runOp('POST', `/v1/vms/${vmId}/start`, {});
      const name = `b${randomUUID().slice(0, 8)}`;
      const snapshot = await runOp('POST', `/v1/vms/${vmId}/snapshots`, { name });
      const rollback = await runOp('POST', `/v1/vms/${vmId}/snapshots/${name}/rollback`, { method: 'new_disk' });
      return { 'vm.stop': stop, 'vm.start': start, 'snapshot.create': snapshot, 'disk.rollback (new disk)': rollback };
    };
    // Two rounds to warm up and to learn each type's shape; then each round runs our four operations and, right
    // after each, its bare and split baselines, so that a slower moment of the machine weighs on all three alike.
    const shapes: Record<string, Shape> = {};
    for (let i = 0; i < 2; i++) {
      for (const [type, r] of Object.entries(await round1())) shapes[type] = await shapeOf(client, r.workflowId, stack.taskQueue);
    }
    const samples: Record<string, { ours: number[]; bare: number[]; split: number[] }> = {};
    const lastWorkflow: Record<string, string> = {};
    const [lagsBefore, announcedBefore] = [waitLags.length, announcedLags.length];
    for (let i = 0; i < sequential; i++) {
      for (const [type, r] of Object.entries(await round1())) {
        const sample = (samples[type] ??= { ours: [], bare: [], split: [] });
        sample.ours.push(r.ms);
        sample.bare.push(await runBare(shapes[type].steps, false));
        sample.split.push(await runBare(shapes[type].steps, true));
        lastWorkflow[type] = r.workflowId;
      }
    }
    const measuredLags = waitLags.slice(lagsBefore);
    const rows: Record<string, string | number>[] = [];
    if (!THROUGHPUT_ONLY) await sequentialRows();
    /** The sequential rounds' rows: latency per type, /wait's lag, CPU per operation. */
    async function sequentialRows() {
      const measuredAnnounced = announcedLags.slice(announcedBefore);
      for (const [type, { ours, bare, split }] of Object.entries(samples)) {
        const shape = (shapes[type] = await shapeOf(client, lastWorkflow[type], stack.taskQueue));
        const p = (xs: number[], q: number) => round(percentile(xs, q), 1);
        rows.push({
          what: `${type} sequential (${shape.steps.length} activities, ${shape.steps.filter((s) => s === 'node').length} on the node)`,
          'ours p50/p99 ms': `${p(ours, 50)} / ${p(ours, 99)}`,
          'bare p50/p99 ms': `${p(bare, 50)} / ${p(bare, 99)}`,
          'split p50/p99 ms': `${p(split, 50)} / ${p(split, 99)}`,
          'ours/bare p50': round(percentile(ours, 50) / percentile(bare, 50)),
          'ours/bare p99': round(percentile(ours, 99) / percentile(bare, 99)),
          'ours/split p50': round(percentile(ours, 50) / percentile(split, 50)),
        });
      }

      rows.push({
        what: `/wait answered after the operation's finished_at (${measuredLags.length} operations; bare: the end's announcement at a plain listener, ${measuredAnnounced.length} heard; target p99 ≤ 10)`,
        'ours p50/p99 ms': `${round(percentile(measuredLags, 50), 1)} / ${round(percentile(measuredLags, 99), 1)}`,
        'bare p50/p99 ms': `${round(percentile(measuredAnnounced, 50), 1)} / ${round(percentile(measuredAnnounced, 99), 1)}`,
        'ours/bare p50': round(percentile(measuredLags, 50) / Math.max(percentile(measuredAnnounced, 50), 0.5)),
        'ours/bare p99': round(percentile(measuredLags, 99) / Math.max(percentile(measuredAnnounced, 99), 0.5)),
      });

      // CPU per operation, by process: stop/start pairs on the stack, then as many split baselines of that shape.
      const pairs = QUICK ? 5 : 50;
      const cpu0 = cpuByKind(stack);
      for (let i = 0; i < pairs; i++) {
        await runOp('POST', `/v1/vms/${vmId}/stop`, {});
        await runOp('POST', `/v1/vms/${vmId}/start`, {});
      }
      const cpu1 = cpuByKind(stack);
      const bench1 = process.cpuUsage();
      for (let i = 0; i < 2 * pairs; i++) await runBare(shapes['vm.stop'].steps, true);
      const cpu2 = cpuByKind(stack);
      const bench2 = process.cpuUsage(bench1);
      const per = (kind: keyof typeof cpu0, from = cpu0, to = cpu1) => round((to[kind] - from[kind]) / (2 * pairs), 1);
      const oursCpu = per('api') + per('worker') + per('agent') + per('postgres') + per('temporal');
      const bareCpu = per('temporal', cpu1, cpu2) + (bench2.user + bench2.system) / 1000 / (2 * pairs);
      rows.push({
        what: 'CPU ms per stop or start, by process',
        'ours p50/p99 ms': `${round(oursCpu, 1)}: API ${per('api')}, worker ${per('worker')}, agents ${per('agent')}, PostgreSQL ${per('postgres')}, Temporal ${per('temporal')}`,
        'split p50/p99 ms': `${round(bareCpu, 1)}: Temporal ${per('temporal', cpu1, cpu2)}, bench client+workers ${round((bench2.user + bench2.system) / 1000 / (2 * pairs), 1)}`,
        'ours/split p50': round(oursCpu / bareCpu),
      });
    }

    for (const n of concurrency) {
      const vms = await createVms(stack, n, { start: true, parallel: 50, prefix: `tp${n}` });
      const stepsOfStop = shapes['vm.stop'].steps;
      retried503 = {};
      acceptedMs = [];
      const bareStartedMs: number[] = [];
      const [burst0, client0] = [cpuByKind(stack), process.cpuUsage()];
      const t0 = performance.now();
      await Promise.all(vms.map((id) => runOp('POST', `/v1/vms/${id}/stop`, {})));
      const oursMs = performance.now() - t0;
      const [burst1, client1] = [cpuByKind(stack), process.cpuUsage(client0)];
      /** The bench's own part of ours: its HTTP client (the POSTs, the waits), on the same CPUs as the stack. */
      const oursClient = round((client1.user + client1.system) / 1000 / n, 1);
      const t1 = performance.now();
      await Promise.all(vms.map(() => bare.run(queuesOf(stepsOfStop, false), (ms) => bareStartedMs.push(ms))));
      const bareMs = performance.now() - t1;
      const [burst2, client2] = [cpuByKind(stack), process.cpuUsage()];
      const t2 = performance.now();
      await Promise.all(vms.map(() => runBare(stepsOfStop, true)));
      const splitMs = performance.now() - t2;
      const [burst3, client3] = [cpuByKind(stack), process.cpuUsage(client2)];
      const at = (kind: keyof typeof burst0, from = burst0, to = burst1) => round((to[kind] - from[kind]) / n, 1);
      const oursBurst = at('api') + at('worker') + at('agent') + at('postgres') + at('temporal');
      const splitBurst = at('temporal', burst2, burst3) + (client3.user + client3.system) / 1000 / n;
      rows.push({
        what: `${n} concurrent vm.stop, ops/s (${answered503(retried503)})`,
        'ours p50/p99 ms': round((n / oursMs) * 1000, 1),
        'bare p50/p99 ms': round((n / bareMs) * 1000, 1),
        'split p50/p99 ms': round((n / splitMs) * 1000, 1),
        'ours/bare p50': round(bareMs / oursMs),
        'ours/split p50': round(splitMs / oursMs),
      });
      rows.push({
        what: `${n} concurrent vm.stop, CPU ms per operation, by process`,
        'ours p50/p99 ms': `${round(oursBurst, 1)}: API ${at('api')}, worker ${at('worker')}, agents ${at('agent')}, PostgreSQL ${at('postgres')}, Temporal ${at('temporal')}; bench client ${oursClient} besides`,
        'split p50/p99 ms': `${round(splitBurst, 1)}: Temporal ${at('temporal', burst2, burst3)}, bench client+workers ${round((client3.user + client3.system) / 1000 / n, 1)}`,
        'ours/split p50': round(oursBurst / splitBurst),
      });
      const p50max = (xs: number[]) => `${Math.round(percentile(xs, 50))} / ${Math.round(Math.max(...xs))}`;
      rows.push({
        what: `${n} concurrent vm.stop, accepted after, p50 / max ms (ours: the 202, sends again included; bare: the start's answer)`,
        'ours p50/p99 ms': p50max(acceptedMs),
        'bare p50/p99 ms': p50max(bareStartedMs),
        'ours/bare p50': round(percentile(acceptedMs, 50) / percentile(bareStartedMs, 50)),
      });
    }

    // Where the time of the last operation of each type went.
    /** Workflow tasks, started → completed: how many, their median and their sum. */
    const tasks = (xs: number[]) => {
      const sum = xs.reduce((a, x) => a + x, 0);
      return xs.length ? `${xs.length}, median ${round(percentile(xs, 50), 1)}, sum ${round(sum, 1)}` : 'none';
    };
    for (const [type, shape] of Object.entries(THROUGHPUT_ONLY ? {} : shapes)) {
      const total = samples[type].ours[samples[type].ours.length - 1];
      const split = await bareHistory(shape.steps, true);
      rows.push({
        what: `${type}: split baseline, where the time went, ms`,
        'ours p50/p99 ms': `total ${round(split.workflowMs, 1)}`,
        'split p50/p99 ms': `activities ${round(split.localActivityMs, 1)} + ${round(split.nodeActivityMs, 1)} on the node`,
        'ours/bare p50': `Temporal ${round(split.workflowMs - split.localActivityMs - split.nodeActivityMs, 1)}`,
        'ours/bare p99': `workflow tasks: ${tasks(split.workflowTasksMs.deciding)}`,
      });
      rows.push({
        what: `${type}: where the time went (last run), ms`,
        'ours p50/p99 ms': `total ${round(total, 1)}`,
        'bare p50/p99 ms': `API ${round(total - shape.workflowMs, 1)}`,
        'split p50/p99 ms': `activities ${round(shape.localActivityMs, 1)} + ${round(shape.nodeActivityMs, 1)} on the node`,
        'ours/bare p50': `Temporal + local steps ${round(shape.workflowMs - shape.localActivityMs - shape.nodeActivityMs, 1)}`,
        'ours/bare p99': `workflow tasks: ${tasks(shape.workflowTasksMs.deciding)}; with local steps ${tasks(shape.workflowTasksMs.withLocalSteps)}`,
      });
    }

    for (const [type, shape] of Object.entries(THROUGHPUT_ONLY ? {} : shapes)) {
      const bare = await bareHistory(shape.steps);
      const extra = (k: keyof Shape['extras']) => shape.extras[k] - bare.extras[k];
      rows.push({
        what: `${type} history events / bytes`,
        'ours p50/p99 ms': `${shape.events} / ${shape.bytes}`,
        'bare p50/p99 ms': `${bare.events} / ${bare.bytes}`,
        'split p50/p99 ms': `more than bare: search attributes ${extra('searchAttributes')}, patches ${extra('patches')}, retry policies ${extra('retryPolicies')}, summaries ${extra('summaries')}, inputs+results ${extra('payloads')}`,
        'ours/bare p50': round(shape.bytes / bare.bytes),
      });
    }
    report('operations', rows, { sequential, concurrency });
  } finally {
    await announcements.close();
    await bare.close();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/** "0 starts answered 503", or how many did and why (their error codes), each sent again. */
function answered503(byCode: Record<string, number>): string {
  const total = Object.values(byCode).reduce((a, b) => a + b, 0);
  const codes = Object.entries(byCode).map(([code, n]) => `${code} ${n}`);
  return `${total} starts answered 503${total ? ` and sent again: ${codes.join(', ')}` : ''}`;
}
