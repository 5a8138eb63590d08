import type { Client } from '@temporalio/client';
import { settleIfStale } from '@vmops/persistence';
import { TEMPORAL_CLIENT } from '../apps/api/src/temporal/temporal.module';
import { startHarness, type Harness } from './support/harness';
import { recordHistory } from './support/histories';
import { observeVm } from './support/saga-kit';

/**
 * Safety promises of the saga runner and of the launch path, each held where no operation can skip it: a
 * cancel past the point of no return, undo retries, the in-place rollback's point of no return, stale locks
 * and operations whose workflow never started, and capacity under concurrent admissions.
 */
describe('saga safety', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    // The reconciler's Schedule runs here as the worker sets it up, only more often.
    h = await startHarness({ reconcileEverySeconds: 2 });
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h.close());
  afterEach(() => h.resetFaults());

  const waitUntil = async <T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const operationRow = async (id: string) =>
    (await h.dataSource.query(`SELECT status, error, finished_at FROM operations WHERE id = $1`, [id]))[0];
  const vmRow = async (id: string) => (await h.dataSource.query(`SELECT status, current_operation_id FROM vms WHERE id = $1`, [id]))[0];

  describe('cancel after the point of no return', () => {
    it('is refused with 409 once the operation has passed it, and a cancel that reaches the workflow anyway changes nothing', async () => {
      const vm = await h.createVm(key);
      await h.sim.setLatency({ method: 'deleteNic', ms: 3000 });
      const del = await h.call('DELETE', `/v1/vms/${vm.id}`, { key });
      expect(del.status).toBe(202);
      const committed = await waitUntil('the point of no return', async () => {
        const op = (await h.call('GET', `/v1/operations/${del.body.id}`, { key })).body;
        return op.pointOfNoReturn ? op : null;
      });
      expect(committed).toMatchObject({ status: 'running', mayCancel: false, pointOfNoReturn: 'deleteSystemDisk' });

      const cancel = await h.call('POST', `/v1/operations/${del.body.id}/cancel`, { key });
      expect([cancel.status, cancel.body.error.code, cancel.body.error.details.step]).toEqual([
        409,
        'PAST_POINT_OF_NO_RETURN',
        'deleteSystemDisk',
      ]);
      // A cancel request that reaches the workflow regardless (the Temporal UI, the CLI): the steps run to the end.
      const [op] = await h.dataSource.query(`SELECT workflow_id FROM operations WHERE id = $1`, [del.body.id]);
      await h.temporal.workflow.getHandle(op.workflow_id).cancel();

      const done = await h.waitForOperation(key, del.body.id);
      expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: null });
      expect(await h.hypervisor.getVm(vm.nodeId, vm.id)).toBeNull();
      expect((await h.call('GET', `/v1/vms/${vm.id}`, { key })).status).toBe(404);
      expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
    });
  });

  describe('undo retries', () => {
    it('an undo the driver refuses for now ("invalid state") is retried by the undo policy, and the operation ends compensated', async () => {
      const vm = await h.createVm(key);
      const before = await observeVm(h, vm.id, vm.nodeId);
      // vm.update with a restart: stop → resize → start → record. The start fails for good; the undos resize back
      // and start the VM again, and the driver refuses that start's first attempt.
      await h.sim.injectFault({ method: 'startVm', nodeId: vm.nodeId, failCalls: 2, error: 'invalid_state', message: 'injected: not yet' });
      const op = await h.runOperation(key, 'PATCH', `/v1/vms/${vm.id}`, { cpus: 2, apply: 'restart' });
      expect({ status: op.status, code: op.error?.code, step: op.error?.step }).toEqual({
        status: 'compensated',
        code: 'DriverInvalidStateError',
        step: 'startVm',
      });
      expect(op.steps.find((s) => s.name === 'stopVm')).toMatchObject({ status: 'compensated' });
      expect(await observeVm(h, vm.id, vm.nodeId)).toEqual(before);
      expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
    });
  });

  describe('in-place snapshot rollback', () => {
    async function stoppedVmWithSnapshots() {
      const vm = await h.createVm(key, { start: false });
      for (const name of ['s1', 's2']) {
        const snap = await h.call('POST', `/v1/vms/${vm.id}/snapshots`, { key, body: { name } });
        expect((await h.waitForOperation(key, snap.body.id)).status).toBe('succeeded');
      }
      return vm;
    }

    it('a failure before the rollback gives the snapshots it was to discard back (ok, deletable)', async () => {
      const vm = await stoppedVmWithSnapshots();
      await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/start`);
      await h.sim.injectFault({
        method: 'stopVm',
        nodeId: vm.nodeId,
        failCalls: 1,
        error: 'invalid_state',
        message: 'injected: stop refused',
      });
      const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, {
        method: 'in_place',
        stopFirst: true,
        force: true,
      });
      expect(op.status).toMatch(/^(compensated|failed)$/);
      const snaps = (await h.call('GET', `/v1/vms/${vm.id}/snapshots`, { key })).body.items;
      expect(snaps.map((s: { name: string; status: string }) => [s.name, s.status]).sort()).toEqual([
        ['s1', 'ok'],
        ['s2', 'ok'],
      ]);
      expect((await h.runOperation(key, 'DELETE', `/v1/vms/${vm.id}/snapshots/s2`)).status).toBe('succeeded');
    });

    it('a failure after the rollback is not reported compensated: the disk holds the snapshot, the operation is stuck', async () => {
      const vm = await stoppedVmWithSnapshots();
      await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/start`);
      await h.sim.injectFault({
        method: 'startVm',
        nodeId: vm.nodeId,
        failCalls: 1,
        error: 'invalid_state',
        message: 'injected: start refused',
      });
      const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, {
        method: 'in_place',
        stopFirst: true,
        force: true,
      });
      expect({ status: op.status, code: op.error?.code }).toEqual({ status: 'stuck', code: 'FAILED_AFTER_COMMIT' });
    });
  });

  describe('stale locks and operations whose workflow never started', () => {
    /** Plays an API that dies between recording an operation and starting its workflow: the start never happens. */
    function apiDiesBeforeStart(): { release(): Promise<void> } {
      const client = h.app.get<Client>(TEMPORAL_CLIENT);
      const start = client.workflow.start.bind(client.workflow);
      const held: { args: Parameters<typeof start> }[] = [];
      client.workflow.start = ((...args: Parameters<typeof start>) => {
        held.push({ args });
        return new Promise(() => undefined);
      }) as typeof client.workflow.start;
      return {
        // What a late start would do: the workflow runs after its operation was settled.
        async release() {
          client.workflow.start = start;
          for (const { args } of held) await start(...args);
        },
      };
    }
    /** Sends a mutation whose start never happens, then drops the connection once the operation is recorded. */
    const sendAndDrop = async (type: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const abort = new AbortController();
      const sent = fetch(h.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body ?? {}),
        signal: abort.signal,
      }).catch(() => undefined);
      const op = await waitUntil('the operation to be recorded', async () => {
        const [row] = await h.dataSource.query(
          `SELECT id, vm_id FROM operations WHERE type = $1 AND status = 'pending' ORDER BY created_at DESC LIMIT 1`,
          [type],
        );
        return row;
      });
      abort.abort();
      await sent;
      return op as { id: string; vm_id: string };
    };

    it('a launch settles the lock of a terminated workflow and goes on (every operation type, not only power actions)', async () => {
      const vm = await h.createVm(key);
      await h.sim.setLatency({ method: 'stopVm', ms: 5000 });
      const rebuild = await h.call('POST', `/v1/vms/${vm.id}/rebuild`, { key, body: {} });
      expect(rebuild.status).toBe(202);
      const [op] = await h.dataSource.query(`SELECT workflow_id FROM operations WHERE id = $1`, [rebuild.body.id]);
      await h.temporal.workflow.getHandle(op.workflow_id).terminate('an operator terminated it');
      await h.sim.resetControls();

      const disk = await h.call('POST', `/v1/vms/${vm.id}/disks`, { key, body: { sizeGb: 1 } });
      expect(disk.status).toBe(202);
      expect(await operationRow(rebuild.body.id)).toMatchObject({
        status: 'failed',
        error: expect.objectContaining({ code: 'WORKFLOW_ENDED' }),
      });
      expect((await h.waitForOperation(key, disk.body.id)).status).toBe('succeeded');
    });

    it('the reconciler settles never-started operations with no request touching them: a create leaves no VM, a stop frees its VM, reservations are given back', async () => {
      const vm = await h.createVm(key);
      const other = await h.createVm(key, { nodeId: vm.nodeId });
      const auditBefore = await h.auditNode(vm.nodeId);
      expect(auditBefore.diff.clean).toBe(true);
      const dying = apiDiesBeforeStart();
      const hostname = `ghost-${Date.now().toString(36)}`;
      const body = { hostname, templateId: h.world.templateId, cpus: 1, memoryMb: 512, dataDisks: [{ sizeGb: 1 }] };
      const idempotencyKey = `ghost-${hostname}`;
      const create = await sendAndDrop('vm.create', 'POST', '/v1/vms', body, { 'idempotency-key': idempotencyKey });
      const stop = await sendAndDrop('vm.stop', 'POST', `/v1/vms/${vm.id}/stop`);
      const snap = await sendAndDrop('snapshot.create', 'POST', `/v1/vms/${other.id}/snapshots`, { name: 'ghost' });
      expect(await vmRow(create.vm_id)).toMatchObject({ status: 'creating', current_operation_id: create.id });
      expect(await vmRow(vm.id)).toMatchObject({ current_operation_id: stop.id });

      // Nobody asks: within two minutes (here: the 30 s it takes to call an operation never started, and a 2 s
      // Schedule) the reconciler has failed them, removed the VM the create recorded and freed the other VM.
      const ghosts = [create, stop, snap];
      const settled = await waitUntil(
        'the reconciler',
        async () => ((await Promise.all(ghosts.map((g) => operationRow(g.id)))).every((r) => r.finished_at) ? true : null),
        60_000,
      );
      expect(settled).toBe(true);
      // The snapshot's pending record is gone with it: the name is free, the VM too.
      expect((await h.call('GET', `/v1/vms/${other.id}/snapshots/ghost`, { key })).status).toBe(404);
      expect(await vmRow(other.id)).toMatchObject({ current_operation_id: null });
      expect(await operationRow(create.id)).toMatchObject({ status: 'failed', error: expect.objectContaining({ code: 'NEVER_STARTED' }) });
      expect(await operationRow(stop.id)).toMatchObject({ status: 'failed', error: expect.objectContaining({ code: 'NEVER_STARTED' }) });
      expect(await vmRow(create.vm_id)).toBeUndefined();
      expect(await h.dataSource.query(`SELECT id FROM disks WHERE vm_id = $1`, [create.vm_id])).toEqual([]);
      expect(await vmRow(vm.id)).toMatchObject({ status: 'running', current_operation_id: null });
      const again = await h.call('GET', `/v1/operations/${create.id}`, { key });
      expect(again.body).toMatchObject({ status: 'failed', mayCancel: false });
      // One more pass, by hand: nothing is left to settle.
      const pass = `reconcile-operations-by-hand-${Date.now().toString(36)}`;
      const report = await h.temporal.workflow.execute('reconcileOperationsWorkflow', {
        taskQueue: h.config.temporalTaskQueue,
        workflowId: pass,
      });
      expect(report).toMatchObject({ settled: [] });
      await recordHistory(h.temporal, pass, 'reconcile-operations.succeeded');

      // A start that comes late (the request was only slow) runs a workflow that finds its operation settled.
      const mark = await h.sim.lastCallSeq();
      await dying.release();
      await new Promise((r) => setTimeout(r, 3000));
      expect(await h.sim.callLog(mark)).toEqual([]);
      expect(await vmRow(create.vm_id)).toBeUndefined();
      expect(await vmRow(vm.id)).toMatchObject({ status: 'running', current_operation_id: null });
      // The client's retry with its Idempotency-Key (it never got an answer) starts the create anew: the
      // hostname is free again, and the node holds nothing it should not.
      const retry = await h.call('POST', '/v1/vms', { key, body, headers: { 'idempotency-key': idempotencyKey } });
      expect(retry.status).toBe(202);
      expect(retry.body.id).not.toBe(create.id);
      expect((await h.waitForOperation(key, retry.body.id)).status).toBe('succeeded');
      expect((await h.runOperation(key, 'POST', `/v1/vms/${other.id}/snapshots`, { name: 'ghost' })).status).toBe('succeeded');
      expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
    });

    it('a start that answers too late, after its workflow took the operation over: 202 and the operation runs, nothing given back twice', async () => {
      const vm = await h.createVm(key);
      // The start reaches Temporal, the workflow marks its operation running, and only then does the API's call
      // give up (its deadline passed on a busy server): the API must not settle what the workflow runs.
      const client = h.app.get<Client>(TEMPORAL_CLIENT);
      const start = client.workflow.start.bind(client.workflow);
      client.workflow.start = (async (...args: Parameters<typeof start>) => {
        await start(...args);
        await waitUntil('the workflow to mark its operation running', async () => {
          const [row] = await h.dataSource.query(`SELECT 1 FROM operations WHERE workflow_id = $1 AND status <> 'pending'`, [
            args[1].workflowId,
          ]);
          return row;
        });
        throw new Error('Deadline exceeded');
      }) as typeof client.workflow.start;
      await h.sim.setLatency({ method: 'createSnapshot', ms: 1500 });
      const headers = { 'idempotency-key': `late-start-${vm.id}` };
      let launched;
      try {
        launched = await h.call('POST', `/v1/vms/${vm.id}/snapshots`, { key, body: { name: 'late' }, headers });
      } finally {
        client.workflow.start = start;
      }
      expect(launched.status).toBe(202);
      // While it runs, it holds the VM, its snapshot is recorded, and the client's retry gets the same operation.
      expect(await vmRow(vm.id)).toMatchObject({ current_operation_id: launched.body.id });
      const retry = await h.call('POST', `/v1/vms/${vm.id}/snapshots`, { key, body: { name: 'late' }, headers });
      expect({ status: retry.status, id: retry.body.id }).toEqual({ status: 202, id: launched.body.id });
      expect((await h.waitForOperation(key, launched.body.id)).status).toBe('succeeded');
      expect((await h.call('GET', `/v1/vms/${vm.id}/snapshots/late`, { key })).body).toMatchObject({ name: 'late', status: 'ok' });
      expect(await vmRow(vm.id)).toMatchObject({ current_operation_id: null });
      expect(
        await h.dataSource.query(`SELECT count(*)::int AS n FROM operations WHERE vm_id = $1 AND type = 'snapshot.create'`, [vm.id]),
      ).toEqual([{ n: 1 }]);
    });

    /** The error the Temporal client raises when a call's deadline passes before the server answers. */
    const deadlineExceeded = () =>
      Object.assign(new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'), { code: 4, details: 'Deadline exceeded', metadata: {} });
    /** Replaces the API's workflow starts with `send` (given the real one) until the returned function puts it back. */
    const interceptStarts = (
      send: (real: Client['workflow']['start'], args: Parameters<Client['workflow']['start']>) => Promise<unknown>,
    ) => {
      const client = h.app.get<Client>(TEMPORAL_CLIENT);
      const real = client.workflow.start.bind(client.workflow);
      client.workflow.start = ((...args: Parameters<typeof real>) => send(real, args)) as typeof client.workflow.start;
      return () => (client.workflow.start = real);
    };

    it('a start Temporal takes longer to accept than the request may wait: 202 pending, the start goes on in the background, the operation runs', async () => {
      const vm = await h.createVm(key);
      const sends: string[] = [];
      // A burst: the server has not taken the first send when the request's deadline passes; it takes the next.
      const restore = interceptStarts(async (real, args) => {
        sends.push(args[1].workflowId);
        if (sends.length > 1) return real(...args);
        await new Promise((r) => setTimeout(r, 200));
        throw deadlineExceeded();
      });
      try {
        const stop = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key });
        expect({ status: stop.status, operation: stop.body.status }).toEqual({ status: 202, operation: 'pending' });
        expect(await vmRow(vm.id)).toMatchObject({ current_operation_id: stop.body.id });
        const done = await h.waitForOperation(key, stop.body.id);
        expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: null });
      } finally {
        restore();
      }
      expect(sends).toEqual([sends[0], sends[0]]);
      expect(await vmRow(vm.id)).toMatchObject({ status: 'stopped', current_operation_id: null });
      expect(await h.hypervisor.getVm(vm.nodeId, vm.id)).toMatchObject({ powerState: 'stopped' });
    });

    it('a start sent again never runs the operation a second time: a first send that landed (its workflow since terminated) is not started anew', async () => {
      const vm = await h.createVm(key);
      const outcomes: string[] = [];
      let firstRun = '';
      // The first send lands, an operator terminates its workflow before it took the operation over, and the answer
      // never reaches the API in time. The API's next send must not start a second run of the operation. (That first
      // run goes to a queue no worker polls: a worker quick enough takes the operation over before the terminate, and
      // that is another case, an operation running whose workflow ended, which the reconciler settles.)
      const restore = interceptStarts(async (real, args) => {
        try {
          const handle = outcomes.length
            ? await real(...args)
            : await real(args[0], { ...args[1], taskQueue: `${args[1].taskQueue}-unpolled` });
          if (!outcomes.length) {
            firstRun = handle.firstExecutionRunId;
            await handle.terminate('an operator terminated it');
            outcomes.push('landed');
            throw deadlineExceeded();
          }
          outcomes.push('started');
          return handle;
        } catch (err) {
          if (outcomes.length && (err as Error).name === 'WorkflowExecutionAlreadyStartedError') outcomes.push('refused');
          throw err;
        }
      });
      // And Temporal's first answer on whether that workflow still runs is lost: the launch asks again.
      const client = h.app.get<Client>(TEMPORAL_CLIENT);
      const getHandle = client.workflow.getHandle.bind(client.workflow);
      let describes = 0;
      client.workflow.getHandle = ((...args: Parameters<typeof getHandle>) => {
        const handle = getHandle(...args);
        const describe = handle.describe.bind(handle);
        handle.describe = () => (++describes === 1 ? Promise.reject(deadlineExceeded()) : describe());
        return handle;
      }) as typeof client.workflow.getHandle;
      try {
        const t0 = Date.now();
        const stop = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key });
        expect(stop.status).toBe(202);
        // Its workflow ended without it: the launch, told so by its second send, settles it; the VM is free again.
        const settled = await waitUntil('the operation to be settled', async () => {
          const row = await operationRow(stop.body.id);
          return row.finished_at ? row : null;
        });
        client.workflow.getHandle = getHandle;
        expect(describes).toBe(2);
        expect(settled).toMatchObject({ status: 'failed', error: expect.objectContaining({ code: 'WORKFLOW_ENDED' }) });
        // Not left to the reconciler, which looks at an operation only once it is 30 s old.
        expect(Date.now() - t0).toBeLessThan(20_000);
        const [op] = await h.dataSource.query(`SELECT workflow_id FROM operations WHERE id = $1`, [stop.body.id]);
        const described = await h.temporal.workflow.getHandle(op.workflow_id).describe();
        expect({ runId: described.runId, status: described.status.name }).toEqual({ runId: firstRun, status: 'TERMINATED' });
      } finally {
        client.workflow.getHandle = getHandle;
        restore();
      }
      expect(outcomes).toEqual(['landed', 'refused']);
      expect(await vmRow(vm.id)).toMatchObject({ status: 'running', current_operation_id: null });
      expect(await h.hypervisor.getVm(vm.nodeId, vm.id)).toMatchObject({ powerState: 'running' });
    });

    it('a start the server never takes: 202, then the operation fails TEMPORAL_UNAVAILABLE before the reconciler would call it never started, nothing changed', async () => {
      const vm = await h.createVm(key);
      let sends = 0;
      const restore = interceptStarts(async () => {
        sends++;
        await new Promise((r) => setTimeout(r, 100));
        throw deadlineExceeded();
      });
      try {
        const t0 = Date.now();
        const stop = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key });
        expect({ status: stop.status, operation: stop.body.status }).toEqual({ status: 202, operation: 'pending' });
        const failed = await waitUntil(
          'the start to be given up',
          async () => {
            const row = await operationRow(stop.body.id);
            return row.finished_at ? row : null;
          },
          40_000,
        );
        expect(failed).toMatchObject({ status: 'failed', error: expect.objectContaining({ code: 'TEMPORAL_UNAVAILABLE' }) });
        // Given up by the launch itself (27 s), not by the reconciler (30 s), and sent again meanwhile.
        expect(Date.now() - t0).toBeLessThan(30_000);
        expect(sends).toBeGreaterThan(5);
      } finally {
        restore();
      }
      expect(await vmRow(vm.id)).toMatchObject({ status: 'running', current_operation_id: null });
      expect(await h.hypervisor.getVm(vm.nodeId, vm.id)).toMatchObject({ powerState: 'running' });
      expect((await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/stop`)).status).toBe('succeeded');
    });

    it('an operation marked running whose workflow is gone is settled as ended, not left running for ever', async () => {
      const vm = await h.createVm(key);
      const dying = apiDiesBeforeStart();
      const stop = await sendAndDrop('vm.stop', 'POST', `/v1/vms/${vm.id}/stop`);
      // What a workflow leaves behind when its history is lost after it marked the operation running.
      await h.dataSource.query(`UPDATE operations SET status = 'running' WHERE id = $1`, [stop.id]);
      const settled = await settleIfStale(h.dataSource, async () => null, stop.id);
      expect(settled).toMatchObject({ id: stop.id, code: 'WORKFLOW_ENDED' });
      expect(await operationRow(stop.id)).toMatchObject({ status: 'failed', error: expect.objectContaining({ code: 'WORKFLOW_ENDED' }) });
      expect(await vmRow(vm.id)).toMatchObject({ current_operation_id: null });
      // The VM is free for the next operation (the late start of the old one finds it settled: it stays running).
      await dying.release();
      expect((await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/stop`)).status).toBe('succeeded');
    });

    it('a cancel that finds no workflow for an operation marked running does not settle it as never started: 503, nothing changed', async () => {
      const vm = await h.createVm(key);
      const dying = apiDiesBeforeStart();
      const stop = await sendAndDrop('vm.stop', 'POST', `/v1/vms/${vm.id}/stop`);
      // As if its workflow had marked it running (a late start) and were not found by the cancel's lookup.
      await h.dataSource.query(`UPDATE operations SET status = 'running' WHERE id = $1`, [stop.id]);
      const cancel = await h.call('POST', `/v1/operations/${stop.id}/cancel`, { key });
      expect({ status: cancel.status, code: cancel.body.error?.code }).toEqual({ status: 503, code: 'TEMPORAL_UNAVAILABLE' });
      expect(await operationRow(stop.id)).toMatchObject({ status: 'running', finished_at: null });
      expect(await vmRow(vm.id)).toMatchObject({ current_operation_id: stop.id });
      // The reconciler's way out for it: its workflow is gone, so it ended.
      expect(await settleIfStale(h.dataSource, async () => null, stop.id)).toMatchObject({ code: 'WORKFLOW_ENDED' });
      expect(await vmRow(vm.id)).toMatchObject({ status: 'running', current_operation_id: null });
      await dying.release();
    });

    it('cancelling a never-started operation settles it at once and gives back what it reserved', async () => {
      const vm = await h.createVm(key);
      const dying = apiDiesBeforeStart();
      const disk = await sendAndDrop('disk.create', 'POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 3 });
      const [reserved] = await h.dataSource.query(`SELECT count(*)::int AS n FROM disks WHERE vm_id = $1`, [vm.id]);
      const view = (await h.call('GET', `/v1/operations/${disk.id}`, { key })).body;
      expect(view).toMatchObject({ status: 'pending', mayCancel: true });

      const cancel = await h.call('POST', `/v1/operations/${disk.id}/cancel`, { key });
      expect(cancel.status).toBe(202);
      expect(cancel.body).toMatchObject({ status: 'cancelled', mayCancel: false });
      const [after] = await h.dataSource.query(`SELECT count(*)::int AS n FROM disks WHERE vm_id = $1`, [vm.id]);
      expect(after.n).toBe(reserved.n - 1);
      expect(await vmRow(vm.id)).toMatchObject({ current_operation_id: null });
      await dying.release();
      expect((await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/stop`)).status).toBe('succeeded');
    });
  });

  describe('admin reset', () => {
    it('makes the inventory match what the node holds, attachments included, and the operator can read its operation', async () => {
      const vm = await h.createVm(key);
      const snap = await h.call('POST', `/v1/vms/${vm.id}/snapshots`, { key, body: { name: 'r1' } });
      expect((await h.waitForOperation(key, snap.body.id)).status).toBe('succeeded');
      const [system] = await h.dataSource.query(`SELECT id FROM disks WHERE vm_id = $1 AND position = 0`, [vm.id]);
      // The new disk cannot be attached, and neither can the old one again: the rollback is stuck with the VM
      // stopped and its system disk detached on the node, while the inventory still has it attached.
      await h.sim.injectFault({
        method: 'attachDisk',
        nodeId: vm.nodeId,
        error: 'not_found',
        message: 'injected: the disk controller is gone',
      });
      const stuck = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots/r1/rollback`, { method: 'new_disk' });
      expect({ status: stuck.status, code: stuck.error?.code, step: stuck.error?.step }).toEqual({
        status: 'stuck',
        code: 'COMPENSATION_FAILED',
        step: 'attachDisk',
      });
      await h.resetFaults();
      const drift = (await h.call('GET', `/v1/vms/${vm.id}/status/current`, { key })).body;
      expect(drift.inSync).toBe(false);
      expect(drift.differences).toEqual(
        expect.arrayContaining([`disk ${system.id}: the inventory says attached at position 0, the node detached`]),
      );

      const operator = await h.newTenant('admin');
      const reset = await h.call('POST', `/v1/admin/vms/${vm.id}/reset`, { key: operator.apiKey });
      expect(reset.status).toBe(202);
      expect((await h.call('GET', reset.headers.get('location')!, { key: operator.apiKey })).status).toBe(200);
      const done = await h.waitForOperation(operator.apiKey, reset.body.id);
      expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: null });
      // The owner sees it in the VM's history; the operator's own list has it too.
      expect((await h.call('GET', `/v1/vms/${vm.id}/operations`, { key })).body.items[0]).toMatchObject({
        id: reset.body.id,
        type: 'vm.reset',
      });
      expect((await h.call('GET', '/v1/operations', { key: operator.apiKey })).body.items.map((o: { id: string }) => o.id)).toContain(
        reset.body.id,
      );

      const synced = (await h.call('GET', `/v1/vms/${vm.id}/status/current`, { key })).body;
      expect({ inSync: synced.inSync, differences: synced.differences, inventoryStatus: synced.inventoryStatus }).toEqual({
        inSync: true,
        differences: [],
        inventoryStatus: 'stopped',
      });
      expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
      // The owner can take it from there: the disk back in place, the VM started.
      expect((await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks/${system.id}/attach`, { position: 0 })).status).toBe('succeeded');
      expect((await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/start`)).status).toBe('succeeded');
    });
  });

  describe('capacity under concurrent admissions', () => {
    const nodeUse = async (nodeId: string) =>
      (
        await h.dataSource.query(`SELECT coalesce(sum(cpus), 0)::int AS cpus, count(*)::int AS vms FROM vms WHERE node_id = $1`, [nodeId])
      )[0];

    it('60 concurrent creates on a node with room for 7 more vCPUs: exactly 7 admitted, the rest 417', async () => {
      const [nodeId, otherNode] = h.world.nodeIds;
      await h.dataSource.query(`UPDATE nodes SET status = 'maintenance' WHERE id = $1`, [otherNode]);
      try {
        const used = await nodeUse(nodeId);
        await h.dataSource.query(`UPDATE nodes SET cpus = $2 WHERE id = $1`, [nodeId, used.cpus + 7]);
        const stamp = Date.now().toString(36);
        const replies = await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            h.call('POST', '/v1/vms', {
              key,
              body: { hostname: `cap-${stamp}-${i}`, templateId: h.world.templateId, cpus: 1, memoryMb: 256, start: false },
            }),
          ),
        );
        const statuses = replies.map((r) => r.status);
        expect(statuses.filter((s) => s === 202)).toHaveLength(7);
        expect(statuses.filter((s) => s === 417)).toHaveLength(53);
        for (const r of replies.filter((r) => r.status === 202))
          expect((await h.waitForOperation(key, r.body.id)).status).toBe('succeeded');
        expect((await nodeUse(nodeId)).cpus).toBe(used.cpus + 7);
      } finally {
        await h.dataSource.query(`UPDATE nodes SET status = 'online', cpus = 4096 WHERE id = ANY($1::uuid[])`, [h.world.nodeIds]);
      }
    });

    it('20 concurrent resizes of 20 VMs on a node with room for 6 more vCPUs: exactly 6 admitted', async () => {
      const [nodeId] = h.world.nodeIds;
      const vms = await Promise.all(Array.from({ length: 20 }, () => h.createVm(key, { start: false, nodeId })));
      try {
        const used = await nodeUse(nodeId);
        await h.dataSource.query(`UPDATE nodes SET cpus = $2 WHERE id = $1`, [nodeId, used.cpus + 6]);
        const replies = await Promise.all(vms.map((vm) => h.call('PATCH', `/v1/vms/${vm.id}`, { key, body: { cpus: 2 } })));
        const accepted = replies.filter((r) => r.status === 202);
        expect(accepted).toHaveLength(6);
        expect(replies.filter((r) => r.status === 417)).toHaveLength(14);
        // While they run, the node already counts them: one more is refused.
        const extra = await h.call('POST', '/v1/vms', {
          key,
          body: { hostname: `cap-x-${Date.now().toString(36)}`, templateId: h.world.templateId, cpus: 1, memoryMb: 256, nodeId },
        });
        expect(extra.status).toBe(417);
        for (const r of accepted) expect((await h.waitForOperation(key, r.body.id)).status).toBe('succeeded');
        expect((await nodeUse(nodeId)).cpus).toBe(used.cpus + 6);
      } finally {
        await h.dataSource.query(`UPDATE nodes SET cpus = 4096 WHERE id = $1`, [nodeId]);
      }
    });
  });
});
