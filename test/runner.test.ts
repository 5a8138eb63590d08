import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { decideRetry } from '@vmops/activities';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import {
  nodeLongTaskQueue,
  nodeTaskQueue,
  progressQuery,
  type OperationPlan,
  type OperationProgress,
  type PlannedStep,
} from '../libs/contracts/src';

/**
 * The saga runner itself, on the run's Temporal server with scripted activities instead of a driver and a
 * database: the order of steps and undos, cancellation before and after the point of no return, undo retries,
 * a failing undo and after-compensation, a step whose effect may have landed, `observes`, and an operation
 * settled before its workflow ran. Fast, and independent of the API and the simulator.
 */
type Behaviour = (args: Record<string, unknown>, attempt: number) => Promise<unknown> | unknown;

describe('the saga runner', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  let client: Client;
  const taskQueue = `runner-test-${randomUUID().slice(0, 8)}`;
  const NODE = 'node-under-test';
  let workers: { worker: Worker; run: Promise<void> }[] = [];

  // What the scripted activities do and saw, per test.
  let behaviours: Record<string, Behaviour> = {};
  let log: string[] = [];
  let finished: Record<string, OperationProgress> = {};
  let markRunning = true;

  let seen: Record<string, Record<string, unknown>> = {};
  const activity = (name: string) => async (args: Record<string, unknown>) => {
    const { attempt, isLocal, retryPolicy } = Context.current().info;
    log.push(`${name}#${attempt}`);
    seen[name] = args;
    try {
      const result = await behaviours[name]?.(args, attempt);
      return result === undefined ? { attempt } : { attempt, result };
    } catch (err) {
      // A driver step decides which of its failures end it, as the agents' steps do.
      throw !isLocal && err instanceof ApplicationFailure ? decideRetry(err, args, retryPolicy?.nonRetryableErrorTypes) : err;
    }
  };
  const activities = Object.fromEntries(
    [
      'createBlankDisk',
      'deleteDisk',
      'defineVm',
      'undefineVm',
      'startVm',
      'forceStopVm',
      'deleteNic',
      'getVm',
      'syncVmFromNode',
      'markSnapshotsOk',
      'recordVmStatus',
    ].map((name) => [name, activity(name)]),
  );
  const fail = (type: string, message = `scripted ${type}`) => {
    throw ApplicationFailure.create({ type, message });
  };

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: process.env.VMOPS_TEST_TEMPORAL_ADDRESS! });
    client = env.client;
    bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./support/runner-test.workflows'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never,
    });
    const all = {
      ...activities,
      markOperationRunning: async () => {
        log.push('markOperationRunning');
        return { attempt: 1, result: markRunning };
      },
      finishOperation: async ({ operationId, progress }: { operationId: string; progress: OperationProgress }) => {
        log.push(`finishOperation:${progress.status}`);
        finished[operationId] = progress;
        return { attempt: 1 };
      },
    };
    for (const queue of [taskQueue, nodeTaskQueue(taskQueue, NODE), nodeLongTaskQueue(taskQueue, NODE)]) {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        namespace: 'default',
        taskQueue: queue,
        workflowBundle: bundle,
        activities: all,
      });
      workers.push({ worker, run: worker.run() });
    }
  });
  afterAll(async () => {
    for (const w of workers) w.worker.shutdown();
    await Promise.all(workers.map((w) => w.run));
    workers = [];
    await env?.teardown();
  });
  beforeEach(() => {
    behaviours = {};
    log = [];
    seen = {};
    finished = {};
    markRunning = true;
  });

  const driverStep = (name: string, activity: string, undo?: string, extra: Partial<PlannedStep> = {}): PlannedStep => ({
    name,
    do: { activity, args: { nodeId: NODE, step: name }, summary: name } as PlannedStep['do'],
    ...(undo
      ? { undo: { activity: undo, args: { nodeId: NODE, step: `undo ${name}` }, summary: `undo ${name}` } as PlannedStep['do'] }
      : {}),
    ...extra,
  });
  const start = (plan: OperationPlan) => {
    const operationId = randomUUID();
    return {
      operationId,
      handle: client.workflow.start('runPlanWorkflow', { taskQueue, workflowId: `runner-${operationId}`, args: [operationId, plan] }),
    };
  };
  const outcome = async (operationId: string, handle: Promise<{ result(): Promise<unknown> }>) => {
    await (await handle).result().catch((err) => {
      if (!(err instanceof WorkflowFailedError)) throw err;
    });
    return finished[operationId];
  };
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { open, opened };
  };
  const waitFor = async (entry: string) => {
    for (let i = 0; i < 200 && !log.includes(entry); i++) await new Promise((r) => setTimeout(r, 25));
    expect(log).toContain(entry);
  };

  it('runs the steps in order; a step fails for good: the undos of the steps done run newest first', async () => {
    behaviours.defineVm = () => fail('DriverInvalidStateError');
    const { operationId, handle } = start({ steps: [driverStep('disk', 'createBlankDisk', 'deleteDisk'), driverStep('vm', 'defineVm')] });
    const progress = await outcome(operationId, handle);
    expect(progress).toMatchObject({ status: 'compensated', error: { code: 'DriverInvalidStateError', step: 'vm' } });
    expect(log).toEqual(['markOperationRunning', 'createBlankDisk#1', 'defineVm#1', 'deleteDisk#1', 'finishOperation:compensated']);
  });

  it('passes an earlier step its result to the step that observes it', async () => {
    let observed: unknown;
    behaviours.getVm = () => ({ powerState: 'stopped' });
    behaviours.syncVmFromNode = (args) => void (observed = args.observed);
    const { operationId, handle } = start({
      steps: [
        driverStep('read', 'getVm'),
        { name: 'sync', do: { activity: 'syncVmFromNode', args: { vmId: 'v' }, observes: 'read', summary: 'sync' } },
      ],
    });
    expect((await outcome(operationId, handle)).status).toBe('succeeded');
    expect(observed).toEqual({ powerState: 'stopped' });
  });

  it('a step that fails after its effect may have landed is undone too', async () => {
    behaviours.defineVm = () => fail('DriverInvalidStateError', 'defined, then the reply said otherwise');
    const { operationId, handle } = start({
      steps: [driverStep('disk', 'createBlankDisk', 'deleteDisk'), driverStep('vm', 'defineVm', 'undefineVm')],
    });
    const progress = await outcome(operationId, handle);
    expect(progress.status).toBe('compensated');
    expect(log).toEqual([
      'markOperationRunning',
      'createBlankDisk#1',
      'defineVm#1',
      'undefineVm#1',
      'deleteDisk#1',
      'finishOperation:compensated',
    ]);
    expect(progress.steps.map((s) => s.status)).toEqual(['compensated', 'failed']);
  });

  it('retries an undo the driver refuses for now, then compensates', async () => {
    behaviours.defineVm = () => fail('DriverInvalidStateError');
    behaviours.deleteDisk = (_args, attempt) => (attempt === 1 ? fail('DriverInvalidStateError', 'disk still busy') : undefined);
    const { operationId, handle } = start({ steps: [driverStep('disk', 'createBlankDisk', 'deleteDisk'), driverStep('vm', 'defineVm')] });
    expect((await outcome(operationId, handle)).status).toBe('compensated');
    expect(log.filter((l) => l.startsWith('deleteDisk'))).toEqual(['deleteDisk#1', 'deleteDisk#2']);
    // The node is the queue's, not an argument; the undo says it is one, which is how it is retried through "invalid state".
    expect(seen.createBlankDisk).toEqual({ step: 'disk' });
    expect(seen.deleteDisk).toEqual({ step: 'undo disk', undo: true });
  });

  it('an undo that cannot succeed leaves the operation stuck, naming it, and stops the compensation there', async () => {
    behaviours.defineVm = () => fail('DriverInvalidStateError');
    behaviours.undefineVm = () => fail('DriverNotFoundError', 'the node lost the VM');
    const { operationId, handle } = start({
      steps: [
        driverStep('disk', 'createBlankDisk', 'deleteDisk'),
        driverStep('vm', 'startVm', 'undefineVm'),
        driverStep('boot', 'defineVm'),
      ],
    });
    const progress = await outcome(operationId, handle);
    expect(progress).toMatchObject({ status: 'stuck', error: { code: 'COMPENSATION_FAILED', step: 'undefineVm' } });
    expect(log).not.toContain('deleteDisk#1');
  });

  it('an after-compensation that fails for good leaves the operation stuck, naming it', async () => {
    behaviours.defineVm = () => fail('DriverInvalidStateError');
    behaviours.markSnapshotsOk = () => {
      throw ApplicationFailure.nonRetryable('the inventory refused', 'InjectedInventoryFault');
    };
    const { operationId, handle } = start({
      steps: [driverStep('disk', 'createBlankDisk', 'deleteDisk'), driverStep('vm', 'defineVm')],
      afterCompensation: { activity: 'markSnapshotsOk', args: { snapshotIds: [] }, summary: 'after' },
    });
    expect(await outcome(operationId, handle)).toMatchObject({
      status: 'stuck',
      error: { code: 'COMPENSATION_FAILED', step: 'markSnapshotsOk' },
    });
  });

  it('a cancel before the point of no return: the step in flight ends, no new step starts, everything done is undone', async () => {
    const inFlight = gate();
    behaviours.defineVm = () => inFlight.opened;
    const { operationId, handle } = start({
      steps: [
        driverStep('disk', 'createBlankDisk', 'deleteDisk'),
        driverStep('vm', 'defineVm', 'undefineVm'),
        driverStep('nic', 'deleteNic', undefined, { commit: true }),
      ],
    });
    await waitFor('defineVm#1');
    await (await handle).cancel();
    inFlight.open();
    const progress = await outcome(operationId, handle);
    expect(progress.status).toBe('cancelled');
    expect(log).not.toContain('deleteNic#1');
    expect(log.slice(-3)).toEqual(['undefineVm#1', 'deleteDisk#1', 'finishOperation:cancelled']);
  });

  it('a cancel after the point of no return changes nothing: the operation runs to its end and succeeds', async () => {
    const last = gate();
    behaviours.startVm = () => last.opened;
    const { operationId, handle } = start({
      steps: [
        driverStep('disk', 'createBlankDisk', 'deleteDisk'),
        driverStep('point', 'deleteNic', undefined, { commit: true }),
        driverStep('boot', 'startVm', 'forceStopVm'),
      ],
    });
    await waitFor('startVm#1');
    const live = await (await handle).query(progressQuery);
    expect({ status: live.status, committed: live.committed }).toEqual({ status: 'running', committed: 'point' });
    await (await handle).cancel();
    await new Promise((r) => setTimeout(r, 300));
    expect((await (await handle).query(progressQuery)).status).toBe('running');
    last.open();
    const progress = await outcome(operationId, handle);
    expect({ status: progress.status, error: progress.error }).toEqual({ status: 'succeeded', error: null });
    expect(log.filter((l) => /^(deleteDisk|forceStopVm)/.test(l))).toEqual([]);
  });

  it('an operation settled before its workflow ran (cancelled, never started) is left alone: no step, no final write', async () => {
    markRunning = false;
    const { operationId, handle } = start({ steps: [driverStep('disk', 'createBlankDisk', 'deleteDisk')] });
    expect(await outcome(operationId, handle)).toBeUndefined();
    expect(log).toEqual(['markOperationRunning']);
  });
});
