import { execFileSync } from 'node:child_process';
import { resolveTemporalCli } from '../scripts/temporal-dev-server';
import { startHarness, type Harness } from './support/harness';
import { recordHistory } from './support/histories';

/** The contract every VM operation shares: exclusivity, idempotency, dry run, cancel, wait, history. */
describe('operations core', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h.close());
  afterEach(() => h.resetFaults());

  const createVm = (start = true) => h.createVm(key, { start });

  async function waitForStep(operationId: string, step: string) {
    for (let i = 0; i < 100; i++) {
      const op = (await h.call('GET', `/v1/operations/${operationId}`, { key })).body;
      if (op.progress.step === step) return op;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`operation ${operationId} never ran step ${step}`);
  }

  const operationCount = async () => Number((await h.dataSource.query(`SELECT count(*)::int AS n FROM operations`))[0].n);

  it('stops and starts a VM: each a 202 operation that ends with the node and the inventory agreeing', async () => {
    const vm = await createVm();

    const stop = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key });
    expect(stop.status).toBe(202);
    expect(stop.headers.get('location')).toBe(`/v1/operations/${stop.body.id}`);
    expect(stop.body).toMatchObject({ type: 'vm.stop', vmId: vm.id, mayCancel: true, resources: { vms: [`/v1/vms/${vm.id}`] } });
    expect(stop.body.steps.map((s: any) => [s.name, s.status])).toEqual([
      ['stopVm', 'pending'],
      ['recordVm', 'pending'],
    ]);
    const stopped = await h.waitForOperation(key, stop.body.id);
    expect(stopped).toMatchObject({ status: 'succeeded', mayCancel: false });
    expect((await h.call('GET', `/v1/vms/${vm.id}`, { key })).body).toMatchObject({ status: 'stopped', locked: false });
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.powerState).toBe('stopped');

    const start = await h.call('POST', `/v1/vms/${vm.id}/start`, { key });
    expect(start.status).toBe(202);
    expect((await h.waitForOperation(key, start.body.id)).status).toBe('succeeded');
    expect((await h.call('GET', `/v1/vms/${vm.id}`, { key })).body.status).toBe('running');
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.powerState).toBe('running');

    await recordHistory(h.temporal, `vm-stop-${vm.hostname}-${stop.body.id.slice(0, 8)}`, 'stop-vm.succeeded');
    await recordHistory(h.temporal, `vm-start-${vm.hostname}-${start.body.id.slice(0, 8)}`, 'start-vm.succeeded');

    // The VM's action history, newest first.
    const history = await h.call('GET', `/v1/vms/${vm.id}/operations`, { key });
    expect(history.body.items.map((o: any) => o.type)).toEqual(['vm.start', 'vm.stop', 'vm.create']);
    const other = await h.newTenant();
    expect((await h.call('GET', `/v1/vms/${vm.id}/operations`, { key: other.apiKey })).status).toBe(404);
    expect((await h.call('POST', `/v1/vms/${vm.id}/stop`, { key: other.apiKey })).status).toBe(404);
  });

  it('answers 423 for an action the VM is not in the state for, and records nothing', async () => {
    const vm = await createVm(false);
    const before = await operationCount();
    const res = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key });
    expect(res.status).toBe(423);
    expect(res.body.error).toMatchObject({ code: 'VM_INVALID_STATE', details: { status: 'stopped', required: 'running' } });
    expect(await operationCount()).toBe(before);
    expect((await h.call('GET', `/v1/vms/${vm.id}`, { key })).body).toMatchObject({ locked: false, currentOperationId: null });
  });

  it('lets exactly one of 50 concurrent conflicting requests through; the others get 409 VM_BUSY naming it', async () => {
    const vm = await createVm();
    await h.sim.setLatency({ method: 'stopVm', ms: 1500 });

    const answers = await Promise.all(Array.from({ length: 50 }, () => h.call('POST', `/v1/vms/${vm.id}/stop`, { key })));

    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted).toHaveLength(1);
    const busy = answers.filter((a) => a.status === 409);
    expect(busy).toHaveLength(49);
    for (const b of busy) {
      expect(b.body.error).toMatchObject({ code: 'VM_BUSY', details: { operationId: accepted[0].body.id, type: 'vm.stop' } });
    }
    expect((await h.waitForOperation(key, accepted[0].body.id)).status).toBe('succeeded');
    expect(await h.sim.callCount('stopVm')).toBe(1);
  });

  it('releases the VM at once when the operation holding it is terminated from the Temporal CLI', async () => {
    const vm = await createVm();
    await h.sim.setLatency({ method: 'stopVm', ms: 3000 });
    const stop = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key });
    await waitForStep(stop.body.id, 'stopVm');
    expect((await h.call('POST', `/v1/vms/${vm.id}/stop`, { key })).status).toBe(409);

    const workflowId = `vm-stop-${vm.hostname}-${stop.body.id.slice(0, 8)}`;
    execFileSync(resolveTemporalCli(), [
      'workflow',
      'terminate',
      '--address',
      process.env.VMOPS_TEST_TEMPORAL_ADDRESS!,
      '--workflow-id',
      workflowId,
      '--reason',
      'test: operator gave up',
    ]);
    await h.sim.resetControls();

    const again = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key });
    expect(again.status).toBe(202);
    const old = (await h.call('GET', `/v1/operations/${stop.body.id}`, { key })).body;
    expect(old).toMatchObject({ status: 'failed', error: { code: 'WORKFLOW_ENDED' } });
    expect(old.error.message).toContain('terminated');
    expect((await h.waitForOperation(key, again.body.id)).status).toBe('succeeded');
  });

  it('replays the same operation for the same Idempotency-Key and body; 422 for the key with another request', async () => {
    const vm = await createVm();
    const idem = `key-${vm.id}`;
    const first = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key, headers: { 'idempotency-key': idem } });
    const second = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key, headers: { 'idempotency-key': idem } });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    await h.waitForOperation(key, first.body.id);
    // Still the same operation after it finished, though the VM is stopped now.
    expect((await h.call('POST', `/v1/vms/${vm.id}/stop`, { key, headers: { 'idempotency-key': idem } })).body.id).toBe(first.body.id);

    const misuse = await h.call('POST', `/v1/vms/${vm.id}/start`, { key, headers: { 'idempotency-key': idem } });
    expect(misuse.status).toBe(422);
    expect(misuse.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', details: { operationId: first.body.id } });

    const body = { hostname: 'idem-vm', templateId: h.world.templateId, cpus: 1, memoryMb: 512 };
    const create = await h.call('POST', '/v1/vms', { key, body, headers: { 'idempotency-key': `${idem}-create` } });
    const createAgain = await h.call('POST', '/v1/vms', { key, body, headers: { 'idempotency-key': `${idem}-create` } });
    expect(createAgain.status).toBe(202);
    expect(createAgain.body.id).toBe(create.body.id);
    const changed = await h.call('POST', '/v1/vms', { key, body: { ...body, cpus: 2 }, headers: { 'idempotency-key': `${idem}-create` } });
    expect(changed.status).toBe(422);
    expect(Number((await h.dataSource.query(`SELECT count(*)::int AS n FROM vms WHERE hostname = $1`, [body.hostname]))[0].n)).toBe(1);

    // Keys belong to a tenant: another tenant's same key is a new operation.
    const other = await h.newTenant();
    const theirs = await h.call('POST', '/v1/vms', { key: other.apiKey, body, headers: { 'idempotency-key': `${idem}-create` } });
    expect(theirs.status).toBe(202);
    expect(theirs.body.id).not.toBe(create.body.id);
  });

  it('20 concurrent requests with one Idempotency-Key: one operation, and every answer is that operation (a stop and a create)', async () => {
    const vm = await createVm();
    const stops = await Promise.all(
      Array.from({ length: 20 }, () =>
        h.call('POST', `/v1/vms/${vm.id}/stop`, { key, headers: { 'idempotency-key': `race-stop-${vm.id}` } }),
      ),
    );
    expect(new Set(stops.map((r) => `${r.status} ${r.body.id}`)).size).toBe(1);
    expect(stops[0].status).toBe(202);
    const body = { hostname: `race-${Date.now().toString(36)}`, templateId: h.world.templateId, cpus: 1, memoryMb: 512 };
    const creates = await Promise.all(
      Array.from({ length: 20 }, () => h.call('POST', '/v1/vms', { key, body, headers: { 'idempotency-key': `race-create-${vm.id}` } })),
    );
    expect(new Set(creates.map((r) => `${r.status} ${r.body.id}`)).size).toBe(1);
    expect(creates[0].status).toBe(202);
    expect(
      (await h.dataSource.query(`SELECT count(*)::int AS n FROM operations WHERE idempotency_key LIKE $1`, [`race-%-${vm.id}`]))[0].n,
    ).toBe(2);
    for (const op of [stops[0], creates[0]]) expect((await h.waitForOperation(key, op.body.id)).status).toBe('succeeded');
  });

  it('plans without acting on ?dryRun=true: 200 with every step and its undo, nothing written or started', async () => {
    const before = await operationCount();
    const vmsBefore = await h.dataSource.query(`SELECT count(*)::int AS n FROM vms`);
    const res = await h.call('POST', '/v1/vms?dryRun=true', {
      key,
      body: { hostname: 'dry-run', templateId: h.world.templateId, cpus: 1, memoryMb: 512 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, type: 'vm.create', vmId: expect.any(String) });
    expect(res.body.steps.map((s: any) => s.name)).toEqual(['createSystemDisk', 'createInterface', 'defineVm', 'startVm', 'recordVm']);
    expect(res.body.steps[0]).toEqual({
      name: 'createSystemDisk',
      activity: 'createDiskFromTemplate',
      summary: expect.stringContaining('dry-run'),
      undo: expect.stringContaining('Delete'),
      undoActivity: 'deleteDisk',
      commit: false,
    });
    expect(res.body.steps[4].undo).toBeNull();
    expect(await operationCount()).toBe(before);
    expect(await h.dataSource.query(`SELECT count(*)::int AS n FROM vms`)).toEqual(vmsBefore);

    // A dry run checks what a real call checks.
    const vm = await createVm(false);
    expect((await h.call('POST', `/v1/vms/${vm.id}/stop?dryRun=true`, { key })).status).toBe(423);
    const plan = await h.call('POST', `/v1/vms/${vm.id}/start?dryRun=true`, { key });
    expect(plan.body.steps).toEqual([
      {
        name: 'startVm',
        activity: 'startVm',
        summary: `Start ${vm.hostname}`,
        undo: `Force-stop ${vm.hostname}`,
        undoActivity: 'forceStopVm',
        commit: false,
      },
      {
        name: 'recordVm',
        activity: 'recordVmStatus',
        summary: `Record ${vm.hostname} as running`,
        undo: null,
        undoActivity: null,
        commit: false,
      },
    ]);
    expect((await h.call('GET', `/v1/vms/${vm.id}`, { key })).body).toMatchObject({ status: 'stopped', locked: false });
    expect((await h.call('POST', '/v1/vms?dryRun=maybe', { key, body: {} })).status).toBe(400);
  });

  it('its history reads step by step in the Temporal UI: the driver step an activity on the node, the inventory steps local, each with its summary', async () => {
    const vm = await createVm(false);
    const planned = (await h.call('POST', `/v1/vms/${vm.id}/start?dryRun=true`, { key })).body.steps;
    const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/start`);
    expect(op.status).toBe('succeeded');
    const [row] = await h.dataSource.query(`SELECT workflow_id FROM operations WHERE id = $1`, [op.id]);
    const events = (await h.temporal.workflow.getHandle(row.workflow_id).fetchHistory()).events ?? [];
    const text = (p: { data?: Uint8Array | null } | null | undefined) => (p?.data ? JSON.parse(Buffer.from(p.data).toString()) : null);
    const activities = events
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => [e.activityTaskScheduledEventAttributes!.activityType!.name, text(e.userMetadata?.summary)]);
    const local = events
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      .map((e) => text(e.userMetadata?.summary));
    expect(activities).toEqual([['startVm', planned[0].summary]]);
    expect(local).toEqual(['Mark the operation running', planned[1].summary, 'Record the operation as succeeded']);

    // What the history holds for the driver step is what it needs: its policy names no failure type (the agent
    // applies the list, told the step is a forward one), its arguments leave out the node its queue names; a step
    // that succeeded at its first try reports no attempt.
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
    expect(scheduled.retryPolicy?.nonRetryableErrorTypes ?? []).toEqual([]);
    expect(scheduled.taskQueue?.name).toContain(vm.nodeId);
    expect(text(scheduled.input?.payloads?.[0])).toEqual({ vmId: vm.id });
    const completed = events.find((e) => e.activityTaskCompletedEventAttributes)!.activityTaskCompletedEventAttributes!;
    expect(text(completed.result?.payloads?.[0])).toEqual({});
    expect(op.steps.map((s: { attempts: number }) => s.attempts)).toEqual([1, 1]);
  });

  it('cancels a running operation: what it did is undone and it ends cancelled', async () => {
    await h.sim.setLatency({ method: 'defineVm', ms: 1500 });
    const hostname = 'cancel-vm';
    const res = await h.call('POST', '/v1/vms', { key, body: { hostname, templateId: h.world.templateId, cpus: 1, memoryMb: 512 } });
    const [{ node_id: nodeId }] = await h.dataSource.query(`SELECT node_id FROM vms WHERE id = $1`, [res.body.vmId]);
    await waitForStep(res.body.id, 'defineVm');
    // Cancel while the hypervisor is in the middle of the call, not merely while it is queued.
    while (!(await h.sim.callCount('defineVm'))) await new Promise((r) => setTimeout(r, 20));

    const cancel = await h.call('POST', `/v1/operations/${res.body.id}/cancel`, { key });
    expect(cancel.status).toBe(202);
    expect(cancel.body.mayCancel).toBe(false);

    const done = (await h.call('GET', `/v1/operations/${res.body.id}/wait?timeout=60`, { key })).body;
    expect(done.status).toBe('cancelled');
    expect(done.error).toMatchObject({ code: 'CANCELLED' });
    // The workflow waited for the call in flight, then undid it too: nothing can land after compensation.
    expect(done.steps.map((s: any) => [s.name, s.status])).toEqual([
      ['createSystemDisk', 'compensated'],
      ['createInterface', 'compensated'],
      ['defineVm', 'compensated'],
      ['startVm', 'pending'],
      ['recordVm', 'pending'],
    ]);
    expect((await h.call('GET', `/v1/vms/${res.body.vmId}`, { key })).status).toBe(404);
    const audit = await h.hypervisor.audit(nodeId);
    expect(audit.vms.find((v) => v.vmId === res.body.vmId)).toBeUndefined();
    expect(audit.disks.filter((d) => d.vmId === null)).toEqual([]);

    await recordHistory(h.temporal, `vm-create-${hostname}-${res.body.id.slice(0, 8)}`, 'create-vm.cancelled');

    const late = await h.call('POST', `/v1/operations/${res.body.id}/cancel`, { key });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'OPERATION_FINISHED', details: { status: 'cancelled' } });
  });

  it('is final to the client only once it is recorded and the VM free: the next request, sent at once, is accepted', async () => {
    const vm = await createVm();
    // The workflow has done every step, and the step that records the end (and frees the VM) fails once: it is
    // retried a second later. Meanwhile the operation must not read as finished.
    h.inventoryFaults.fail('finishOperation', 0, true);
    const stop = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key });
    expect(stop.status).toBe(202);
    const waited = h.call('GET', `/v1/operations/${stop.body.id}/wait?timeout=30`, { key });
    let readWhileRecording = 0;
    for (;;) {
      const view = (await h.call('GET', `/v1/operations/${stop.body.id}`, { key })).body;
      if (['succeeded', 'failed', 'compensated', 'cancelled', 'stuck'].includes(view.status)) break;
      if (h.inventoryFaults.fired) readWhileRecording++;
      await new Promise((r) => setTimeout(r, 50));
    }
    // A client that saw it final goes on at once: the VM is free for its next operation (a dry run: 200, not 409).
    expect((await h.call('POST', `/v1/vms/${vm.id}/start?dryRun=true`, { key })).status).toBe(200);
    expect(readWhileRecording).toBeGreaterThan(0);
    const done = await waited;
    expect(done.body).toMatchObject({ status: 'succeeded', finishedAt: expect.any(String) });
    expect((await h.call('POST', `/v1/vms/${vm.id}/start?dryRun=true`, { key })).status).toBe(200);
  });

  it('long-polls: /wait answers when the operation ends, or at the timeout with its state then', async () => {
    const vm = await createVm();
    await h.sim.setLatency({ method: 'stopVm', ms: 1500 });
    const stop = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key });

    const t0 = Date.now();
    const early = await h.call('GET', `/v1/operations/${stop.body.id}/wait?timeout=0`, { key });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(['pending', 'running']).toContain(early.body.status);

    const done = await h.call('GET', `/v1/operations/${stop.body.id}/wait?timeout=30`, { key });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('succeeded');
    expect((await h.call('GET', `/v1/operations/${stop.body.id}/wait?timeout=999`, { key })).status).toBe(400);
  });
});
