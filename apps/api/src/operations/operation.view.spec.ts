import type { OperationStep } from '@vmops/contracts';
import type { OperationEntity } from '@vmops/persistence';
import { toOperationView } from './operation.view';

const step = (name: string, status: OperationStep['status']): OperationStep => ({
  name,
  status,
  startedAt: null,
  finishedAt: null,
  attempts: status === 'pending' ? 0 : 1,
  error: null,
});

const entity = (over: Partial<OperationEntity> = {}): OperationEntity =>
  Object.assign(new (class {})() as OperationEntity, {
    id: 'op-1',
    tenantId: 't',
    vmId: 'vm-1',
    type: 'vm.create',
    status: 'running',
    workflowId: 'vm-create-web 1-op',
    request: {},
    steps: [],
    error: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-01T00:00:01Z'),
    finishedAt: null,
    deadlineAt: new Date('2026-01-01T00:10:00Z'),
    idempotencyKey: null,
    requestHash: null,
    ...over,
  });

const ui = { uiUrl: 'http://ui:8233', namespace: 'default' };

describe('operation view', () => {
  it('reports the running step and the share of steps done, from the live progress', () => {
    const view = toOperationView(
      entity(),
      {
        status: 'running',
        steps: [step('a', 'succeeded'), step('b', 'running'), step('c', 'pending'), step('d', 'pending')],
        error: null,
      },
      ui,
      new Date(),
      { progress: { percent: 40, bytesTransferred: 4, bytesTotal: 10 }, attempt: 1, lastFailure: null },
    );
    expect(view.progress).toEqual({
      step: 'b',
      stepsDone: 1,
      stepsTotal: 4,
      percent: 25,
      stepPercent: 40,
      stepBytes: { transferred: 4, total: 10 },
      children: null,
    });
    expect(view.status).toBe('running');
  });

  it('shows the attempt a retrying step is on, and why the one before failed, while the workflow does not know yet', () => {
    const live = { status: 'running' as const, steps: [step('a', 'succeeded'), step('b', 'running')], error: null };
    const view = toOperationView(entity(), live, ui, new Date(), { progress: null, attempt: 3, lastFailure: 'node-1 unreachable' });
    expect(view.steps[1]).toMatchObject({ name: 'b', status: 'running', attempts: 3, error: 'node-1 unreachable' });
    expect(view.steps[0]).toEqual(live.steps[0]);
    expect(view.progress.stepPercent).toBeNull();
  });

  it('uses the database record when there is no live view', () => {
    const view = toOperationView(entity({ status: 'succeeded', steps: [step('a', 'succeeded'), step('b', 'succeeded')] }), null, ui);
    expect(view.progress).toEqual({
      step: null,
      stepsDone: 2,
      stepsTotal: 2,
      percent: 100,
      stepPercent: null,
      stepBytes: null,
      children: null,
    });
  });

  it('is overdue only while unfinished past its deadline', () => {
    const before = new Date('2026-01-01T00:09:59Z');
    const after = new Date('2026-01-01T00:10:01Z');
    expect(toOperationView(entity(), null, ui, before).overdue).toBe(false);
    expect(toOperationView(entity(), null, ui, after).overdue).toBe(true);
    expect(toOperationView(entity({ status: 'succeeded' }), null, ui, after).overdue).toBe(false);
    expect(toOperationView(entity(), { status: 'compensated', steps: [], error: null }, ui, after).overdue).toBe(false);
  });

  it('may be cancelled only while pending or running', () => {
    expect(toOperationView(entity({ status: 'pending' }), null, ui).mayCancel).toBe(true);
    expect(toOperationView(entity(), { status: 'cancelling', steps: [], error: null }, ui).mayCancel).toBe(false);
    expect(toOperationView(entity({ status: 'stuck' }), null, ui).mayCancel).toBe(false);
    // Past its point of no return a running operation can no longer be cancelled, and says where that was.
    const committed = toOperationView(entity(), { status: 'running', steps: [], error: null, committed: 'deleteOldDisk' }, ui);
    expect([committed.mayCancel, committed.pointOfNoReturn]).toEqual([false, 'deleteOldDisk']);
  });

  it('is final only once its record is: a workflow that has ended its steps but not yet recorded the end reads as the record says', () => {
    const live = { status: 'succeeded' as const, steps: [step('a', 'succeeded'), step('b', 'succeeded')], error: null };
    const finishing = toOperationView(entity(), live, ui);
    expect([finishing.status, finishing.finishedAt, finishing.mayCancel, finishing.progress.percent]).toEqual([
      'running',
      null,
      false,
      100,
    ]);
    const cancelled = toOperationView(entity({ status: 'cancelling' }), { ...live, status: 'cancelled' as const }, ui);
    expect(cancelled.status).toBe('cancelling');
    // Recorded: final, as the workflow said.
    const recorded = toOperationView(entity({ status: 'succeeded', finishedAt: new Date('2026-01-01T00:00:02Z') }), null, ui);
    expect(recorded.status).toBe('succeeded');
  });

  it('links to the workflow in the Temporal UI, escaping the id', () => {
    expect(toOperationView(entity(), null, ui).links.temporalUi).toBe('http://ui:8233/namespaces/default/workflows/vm-create-web%201-op');
  });
});
