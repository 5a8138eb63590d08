import { ScheduleNotFoundError } from '@temporalio/client';
import { startHarness, type Harness } from './support/harness';
import { recordHistory } from './support/histories';

interface Snapshot {
  name: string;
  type: string;
  status: string;
  definitionId: string | null;
}

/**
 * Snapshot definitions (Erigones define/snapshot) run by Temporal Schedules: each run takes a snapshot as a
 * snapshot.create operation, then prunes the definition's automatic snapshots beyond its retention, oldest first.
 */
describe('scheduled snapshots', () => {
  let h: Harness;
  let key: string;
  let tenantId: string;

  beforeAll(async () => {
    h = await startHarness({ env: { SNAPSHOT_BUSY_RETRY_SECONDS: '1', SNAPSHOT_BUSY_RETRY_ATTEMPTS: '20' } });
    ({ apiKey: key, tenantId } = await h.newTenant());
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const defs = (vmId: string) => `/v1/vms/${vmId}/snapshot-definitions`;
  const define = async (vmId: string, body: Record<string, unknown>) => {
    const res = await h.call('POST', defs(vmId), { key, body });
    expect([res.status, res.body.error]).toEqual([201, undefined]);
    return res.body as { id: string; name: string; scheduleId: string; nextRunAt: string | null; diskId: string };
  };
  const snapshots = async (vmId: string): Promise<Snapshot[]> =>
    (await h.call('GET', `/v1/vms/${vmId}/snapshots?orderBy=created&limit=100`, { key })).body.items;
  const schedule = (id: string) => h.temporal.schedule.getHandle(id);
  /** The runs the schedule has started so far, oldest first, each awaited to its end. */
  const finishedRuns = async (scheduleId: string) => {
    const { info } = await schedule(scheduleId).describe();
    return Promise.all(
      info.recentActions.map(async (a) => {
        const handle = h.temporal.workflow.getHandle(a.action.workflow.workflowId);
        return { workflowId: a.action.workflow.workflowId, result: await handle.result() };
      }),
    );
  };
  const waitFor = async <T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 90_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  it('a schedule every minute takes snapshots and keeps the newest `retention`, as normal operations; manual ones are left alone', async () => {
    const vm = await h.createVm(key);
    await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots`, { name: 'manual-1' });
    const def = await define(vm.id, { name: 'minutely', schedule: '* * * * *', retention: 2, description: 'test' });
    expect(def).toMatchObject({ schedule: '* * * * *', retention: 2, active: true, onBusy: 'retry', fsfreeze: false, description: 'test' });
    expect(def.scheduleId).toMatch(new RegExp(`^snapshot-${vm.hostname}-minutely-`));
    expect(Date.parse(def.nextRunAt!) - Date.now()).toBeLessThanOrEqual(60_000);
    const described = await schedule(def.scheduleId).describe();
    expect(described.spec.calendars?.length).toBeGreaterThan(0);
    expect(described.state.paused).toBe(false);

    // Two runs now (as the Temporal UI's Trigger would), then the cron's own, within the minute.
    for (const expected of [1, 2]) {
      expect((await h.call('POST', `${defs(vm.id)}/minutely/run`, { key })).status).toBe(202);
      await waitFor(
        'a run to finish',
        () => finishedRuns(def.scheduleId),
        (runs) => runs.length === expected,
      );
    }
    const runs = await waitFor(
      'the cron to run the schedule',
      () => finishedRuns(def.scheduleId),
      (runs) => runs.length >= 3,
    );
    const automatic = (await snapshots(vm.id)).filter((s) => s.type === 'automatic');
    expect(automatic.map((s) => [s.status, s.definitionId])).toEqual([
      ['ok', def.id],
      ['ok', def.id],
    ]);
    for (const s of automatic) expect(s.name).toMatch(/^minutely-\d{8}-\d{6}(-[0-9a-f]{4})?$/);
    expect((await snapshots(vm.id)).filter((s) => s.type === 'manual').map((s) => s.name)).toEqual(['manual-1']);

    // The first run found nothing beyond the retention; the third pruned the first run's snapshot.
    expect(runs[0].result).toMatchObject({ snapshot: { outcome: 'succeeded' }, pruning: { outcome: 'nothing' } });
    expect(runs[2].result).toMatchObject({ snapshot: { outcome: 'succeeded' }, pruning: { outcome: 'succeeded' } });
    const pruneOp = (
      await h.call('GET', `/v1/operations/${(runs[2].result as { pruning: { operationId: string } }).pruning.operationId}`, { key })
    ).body;
    expect(pruneOp).toMatchObject({ type: 'snapshot.delete', status: 'succeeded', vmId: vm.id });
    // A scheduled operation takes its turn with its tenant's others, as one the tenant asked for.
    const [{ workflow_id }] = await h.dataSource.query(`SELECT workflow_id FROM operations WHERE id = $1`, [pruneOp.id]);
    expect((await h.temporal.workflow.getHandle(workflow_id).describe()).priority).toMatchObject({ fairnessKey: tenantId });
    const creates = (await h.call('GET', `/v1/operations?vmId=${vm.id}&type=snapshot.create&limit=10`, { key })).body.items;
    expect(creates.filter((o: { status: string }) => o.status === 'succeeded')).toHaveLength(4);
    // The node holds exactly what the inventory says.
    const onNode = (await h.hypervisor.listSnapshots(vm.nodeId))
      .filter((s) => s.name.startsWith('minutely-'))
      .map((s) => s.name)
      .sort();
    expect(onNode).toEqual(automatic.map((s) => s.name).sort());
    expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
    await recordHistory(h.temporal, runs[2].workflowId, 'scheduled-snapshot.created-and-pruned');

    // Inactive: the schedule is paused and a run is refused; active again, it resumes.
    const paused = await h.call('PATCH', `${defs(vm.id)}/minutely`, { key, body: { active: false, retention: 1 } });
    expect([paused.status, paused.body.active, paused.body.nextRunAt, paused.body.retention]).toEqual([200, false, null, 1]);
    expect((await schedule(def.scheduleId).describe()).state.paused).toBe(true);
    const refused = await h.call('POST', `${defs(vm.id)}/minutely/run`, { key });
    expect([refused.status, refused.body.error.code]).toEqual([423, 'DEFINITION_INACTIVE']);
    await h.call('PATCH', `${defs(vm.id)}/minutely`, { key, body: { active: true } });
    expect((await schedule(def.scheduleId).describe()).state.paused).toBe(false);

    // Deleted: the schedule goes; the snapshots it took stay, of no definition.
    expect((await h.call('DELETE', `${defs(vm.id)}/minutely`, { key })).status).toBe(204);
    await expect(schedule(def.scheduleId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const kept = (await snapshots(vm.id)).filter((s) => s.type === 'automatic');
    expect(kept.length).toBeGreaterThanOrEqual(1);
    for (const s of kept) expect(s.definitionId).toBeNull();
  });

  it('a busy VM: "skip" skips the run, "retry" waits for the VM and then takes the snapshot', async () => {
    const vm = await h.createVm(key);
    const skip = await define(vm.id, { name: 'skipper', schedule: '0 0 1 1 *', retention: 5, onBusy: 'skip' });
    const retry = await define(vm.id, { name: 'waiter', schedule: '0 0 1 1 *', retention: 5 });
    await h.sim.setLatency({ method: 'createBlankDisk', ms: 4000 });
    const busy = await h.call('POST', `/v1/vms/${vm.id}/disks`, { key, body: { sizeGb: 1 } });
    expect(busy.status).toBe(202);
    await h.call('POST', `${defs(vm.id)}/skipper/run`, { key });
    await h.call('POST', `${defs(vm.id)}/waiter/run`, { key });
    const [skipped] = await waitFor(
      'the skipping run',
      () => finishedRuns(skip.scheduleId),
      (r) => r.length === 1,
    );
    expect(skipped.result).toMatchObject({
      snapshot: { outcome: 'skipped', detail: expect.stringContaining(busy.body.id) },
      pruning: null,
    });
    const [waited] = await waitFor(
      'the waiting run',
      () => finishedRuns(retry.scheduleId),
      (r) => r.length === 1,
    );
    expect(waited.result).toMatchObject({ snapshot: { outcome: 'succeeded' } });
    expect((await h.waitForOperation(key, busy.body.id)).status).toBe('succeeded');
    expect((await snapshots(vm.id)).map((s) => s.name)).toEqual([expect.stringMatching(/^waiter-/)]);
  });

  it('predefined names have defaults; bad input is refused with what to fix; another tenant sees nothing', async () => {
    const vm = await h.createVm(key);
    const daily = await define(vm.id, { name: 'daily' });
    expect(daily).toMatchObject({ schedule: '30 5 * * *', retention: 30 });
    expect(daily.nextRunAt).toMatch(/T05:30:00\.000Z$/);
    const cases: [string, string, unknown, number, string][] = [
      ['POST', defs(vm.id), { name: 'daily' }, 409, 'NAME_TAKEN'],
      ['POST', defs(vm.id), { name: 'custom' }, 400, 'VALIDATION_FAILED'],
      ['POST', defs(vm.id), { name: 'custom', schedule: '0 0 * * * *', retention: 3 }, 400, 'VALIDATION_FAILED'],
      ['POST', defs(vm.id), { name: 'custom', schedule: '61 * * * *', retention: 3 }, 400, 'VALIDATION_FAILED'],
      ['POST', defs(vm.id), { name: 'custom', schedule: '0 * * * *', retention: 0 }, 400, 'VALIDATION_FAILED'],
      ['POST', defs(vm.id), { name: 'has.dot', schedule: '0 * * * *', retention: 3 }, 400, 'VALIDATION_FAILED'],
      ['POST', defs(vm.id), { name: 'custom', schedule: '0 * * * *', retention: 3, onBusy: 'wait' }, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        defs(vm.id),
        { name: 'custom', schedule: '0 * * * *', retention: 3, diskId: '00000000-0000-4000-8000-000000000000' },
        412,
        'INVALID_PARAMETER',
      ],
      ['PATCH', `${defs(vm.id)}/daily`, { schedule: 'every day' }, 400, 'VALIDATION_FAILED'],
      ['GET', `${defs(vm.id)}/nightly`, undefined, 404, 'NOT_FOUND'],
      ['GET', `/v1/vms/00000000-0000-4000-8000-000000000000/snapshot-definitions`, undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await h.call(method, path, { key, body });
      expect({ method, path, body, status: res.status, code: res.body.error?.code }).toEqual({ method, path, body, status, code });
    }
    expect((await h.call('GET', defs(vm.id), { key })).body.items.map((d: { name: string }) => d.name)).toEqual(['daily']);
    expect((await schedule(daily.scheduleId).describe()).state.paused).toBe(false);
    const stranger = (await h.newTenant()).apiKey;
    expect((await h.call('GET', defs(vm.id), { key: stranger })).status).toBe(404);
    expect((await h.call('POST', `${defs(vm.id)}/daily/run`, { key: stranger })).status).toBe(404);
  });

  it('follows its disk through a rollback to a new disk; goes with its VM, and the schedule with it', async () => {
    const vm = await h.createVm(key);
    const def = await define(vm.id, { name: 'hourly' });
    await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots`, { name: 'base' });
    const rollback = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots/base/rollback`, { method: 'new_disk' });
    expect(rollback.status).toBe('succeeded');
    const systemDisk = (await h.call('GET', `/v1/vms/${vm.id}`, { key })).body.disks[0].id;
    expect(systemDisk).not.toBe(def.diskId);
    expect((await h.call('GET', `${defs(vm.id)}/hourly`, { key })).body).toMatchObject({ id: def.id, diskId: systemDisk });

    await h.runOperation(key, 'DELETE', `/v1/vms/${vm.id}`);
    expect((await h.dataSource.query(`SELECT 1 FROM snapshot_definitions WHERE id = $1`, [def.id])).length).toBe(0);
    // Its schedule's next run finds the definition gone and deletes the schedule (the reconciler would as well).
    await schedule(def.scheduleId).trigger();
    await waitFor(
      'the schedule to go',
      () =>
        schedule(def.scheduleId)
          .describe()
          .then(
            () => 'there',
            (err) => (err instanceof ScheduleNotFoundError ? 'gone' : 'error'),
          ),
      (s) => s === 'gone',
      30_000,
    );
    expect((await h.dataSource.query(`SELECT 1 FROM snapshot_schedules_to_delete WHERE schedule_id = $1`, [def.scheduleId])).length).toBe(
      0,
    );
  });

  it('a schedule the API could not delete (Temporal unreachable) is deleted by the reconciler', async () => {
    const vm = await h.createVm(key);
    const def = await define(vm.id, { name: 'weekly' });
    // The definition's row goes as the API's delete does; its schedule stays, as when Temporal did not answer.
    await h.dataSource.query(`DELETE FROM snapshot_definitions WHERE id = $1`, [def.id]);
    expect((await schedule(def.scheduleId).describe()).scheduleId).toBe(def.scheduleId);
    const report = await h.temporal.workflow.execute('reconcileOperationsWorkflow', {
      taskQueue: h.config.temporalTaskQueue,
      workflowId: `reconcile-schedules-${def.id}`,
    });
    expect(report.schedulesDeleted).toBeGreaterThanOrEqual(1);
    await expect(schedule(def.scheduleId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    expect((await h.dataSource.query(`SELECT 1 FROM snapshot_schedules_to_delete WHERE schedule_id = $1`, [def.scheduleId])).length).toBe(
      0,
    );
  });
});
