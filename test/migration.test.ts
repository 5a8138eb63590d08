import type { ChildProcess } from 'node:child_process';
import type { OperationView } from '../apps/api/src/operations/operation.view';
import { startAgentProcess, stopAppProcess } from './support/app-process';
import { startHarness, type Harness } from './support/harness';
import { recordOperationHistory } from './support/histories';
import { checkSaga, observeVm } from './support/saga-kit';

/**
 * Migration between nodes (Gandi migrate / can_migrate / finalize_migration): live, cold and two-phase, on two
 * simulated nodes. After every run, settled: the inventory records the VM on the one node it is defined on, and
 * no disk of it is left on the node it left (both nodes' audits are clean).
 */
describe('migration between nodes', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    // Each tenth of a copy takes 150 ms: a migration's progress can be watched.
    h = await startHarness({ transferStepMs: 150 });
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const [source, target] = [0, 1].map((i) => () => h.world.nodeIds[i]);
  const operations = async () => Number((await h.dataSource.query(`SELECT count(*) AS n FROM operations`))[0].n);
  const expectSettledOn = async (vmId: string, nodeId: string, powerState: string) => {
    const seen = await observeVm(h, vmId, h.world.nodeIds);
    expect(seen.placement).toEqual({ inventoryNodeId: nodeId, definedOn: [nodeId] });
    expect(seen.node?.powerState).toBe(powerState);
    expect(seen.inventory).toMatchObject({ status: powerState, locked: false });
    for (const node of h.world.nodeIds) {
      const { diff } = await h.auditNode(node);
      expect({ node, diff }).toEqual({ node, diff: expect.objectContaining({ clean: true }) });
    }
    const disks = await h.dataSource.query(`SELECT DISTINCT node_id FROM disks WHERE vm_id = $1`, [vmId]);
    expect(disks).toEqual([{ node_id: nodeId }]);
  };
  const waitUntil = async (what: string, predicate: () => Promise<boolean>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const getOp = async (id: string): Promise<OperationView> => (await h.call('GET', `/v1/operations/${id}`, { key })).body;

  describe('live', () => {
    it('reserves the target, copies, switches over, records the move, frees the source; undone at every call on both nodes', async () => {
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await h.createVm(key, { nodeId: source() });
          return {
            vmId: vm.id,
            nodeId: source(),
            otherNodeIds: [target()],
            request: { method: 'POST', path: `/v1/vms/${vm.id}/migrate`, body: { targetNodeId: target() } },
          };
        },
        // Once the move is recorded the VM stays on the target: only the source's clean-up is left, for a human if it fails.
        pastPointOfNoReturn: (k, calls) => calls[k] === 'cleanUpMigrationSource',
      });
      expect(calls).toEqual(['prepareMigrationTarget', 'transferVm', 'switchOverVm', 'cleanUpMigrationSource']);

      const vm = await h.createVm(key, { nodeId: source() });
      const res = await h.call('POST', `/v1/vms/${vm.id}/migrate`, { key, body: {} });
      expect(res.status).toBe(202);
      // The copy's progress shows on the operation while it runs, as its driver call heartbeats it: percent and bytes
      // (the 10 GB system disk and the 512 MB of memory of a running VM).
      const seen: OperationView['progress'][] = [];
      await waitUntil('the copy is done', async () => {
        const op = await getOp(res.body.id);
        if (op.progress.step === 'transfer' && op.progress.stepPercent !== null) seen.push(op.progress);
        return op.steps.find((s) => s.name === 'transfer')?.status === 'succeeded';
      });
      const midway = seen.find((p) => p.stepPercent! > 0 && p.stepPercent! < 100);
      expect(midway?.stepBytes).toEqual({
        total: 10 * 2 ** 30 + 512 * 2 ** 20,
        transferred: Math.round(((10 * 2 ** 30 + 512 * 2 ** 20) * midway!.stepPercent!) / 100),
      });
      const op = await h.waitForOperation(key, res.body.id);
      expect(op).toMatchObject({ status: 'succeeded', error: null });
      await recordOperationHistory(h, op.id, 'migrate-vm.live.succeeded');
      // Placement chose the other node (the only one that qualifies); the VM runs there and nowhere else.
      await expectSettledOn(vm.id, target(), 'running');
      const { body: view } = await h.call('GET', `/v1/vms/${vm.id}`, { key });
      expect(view.nodeId).toBe(target());

      // The workflow's NodeId followed the VM: ops find the migration under the node it moved to.
      const [row] = await h.dataSource.query(`SELECT workflow_id FROM operations WHERE id = $1`, [op.id]);
      const described = await h.temporal.workflow.getHandle(row.workflow_id).describe();
      expect(described.searchAttributes.NodeId).toEqual([target()]);
      expect(await described.staticSummary()).toContain('node-1 → node-2 (live)');
    });
  });

  describe('cold', () => {
    it('stops the VM, copies, switches over, starts it on the target; undone at every call on both nodes', async () => {
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await h.createVm(key, { nodeId: source() });
          return {
            vmId: vm.id,
            nodeId: source(),
            otherNodeIds: [target()],
            request: { method: 'POST', path: `/v1/vms/${vm.id}/migrate`, body: { targetNodeId: target(), mode: 'cold' } },
          };
        },
        pastPointOfNoReturn: (k, calls) => calls[k] === 'cleanUpMigrationSource',
      });
      expect(calls).toEqual(['stopVm', 'prepareMigrationTarget', 'transferVm', 'switchOverVm', 'startVm', 'cleanUpMigrationSource']);
      const vm = await h.createVm(key, { nodeId: source() });
      const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/migrate`, { mode: 'cold' });
      expect(op.status).toBe('succeeded');
      await recordOperationHistory(h, op.id, 'migrate-vm.cold.succeeded');
      await expectSettledOn(vm.id, target(), 'running');
    });

    it('moves a stopped VM (cold by default) and leaves it stopped', async () => {
      const vm = await h.createVm(key, { nodeId: target(), start: false });
      const dry = await h.call('POST', `/v1/vms/${vm.id}/migrate?dryRun=true`, { key, body: {} });
      expect(dry.body.steps.map((s: { name: string }) => s.name)).toEqual([
        'prepareTarget',
        'transfer',
        'switchOver',
        'recordMove',
        'cleanUpSource',
      ]);
      const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/migrate`, {});
      expect(op.status).toBe('succeeded');
      await expectSettledOn(vm.id, source(), 'stopped');
    });
  });

  describe('two-phase (finalize: false)', () => {
    const startTwoPhase = async (body: Record<string, unknown> = {}) => {
      const vm = await h.createVm(key, { nodeId: source() });
      const res = await h.call('POST', `/v1/vms/${vm.id}/migrate`, { key, body: { finalize: false, ...body } });
      expect(res.status).toBe(202);
      return { vm, operationId: res.body.id as string };
    };
    const waitForFinalize = async (operationId: string) => {
      await waitUntil('the migration waits for its finalize', async () => (await getOp(operationId)).waiting !== null);
      return getOp(operationId);
    };

    it('waits after the switch-over, the source keeping its copy, until finalized; a finalize at any other time is 409', async () => {
      const { vm, operationId } = await startTwoPhase();
      // Still copying: nothing to finalize yet.
      const early = await h.call('POST', `/v1/operations/${operationId}/finalize`, { key });
      expect(early.status).toBe(409);
      expect(early.body.error.code).toBe('NOT_WAITING_FOR_FINALIZE');

      const waiting = await waitForFinalize(operationId);
      expect(waiting).toMatchObject({
        status: 'running',
        mayCancel: true,
        waiting: { for: 'finalize', step: 'awaitFinalize' },
        progress: { step: 'awaitFinalize' },
      });
      expect(Date.parse(waiting.waiting!.until) - Date.now()).toBeGreaterThan(3500 * 1000 - 60_000);
      // The VM runs on the target and is recorded there; the source keeps its copy, and both nodes count it.
      const seen = await observeVm(h, vm.id, h.world.nodeIds);
      expect(seen.placement).toEqual({ inventoryNodeId: target(), definedOn: [target()] });
      const migrations = (await h.hypervisor.audit(source())).migrations.filter((m) => m.migrationId === operationId);
      expect(migrations.map((m) => m.state)).toEqual(['switched']);

      const finalized = await h.call('POST', `/v1/operations/${operationId}/finalize`, { key });
      expect(finalized.status).toBe(200);
      const op = await h.waitForOperation(key, operationId);
      expect(op.status).toBe('succeeded');
      expect(op.waiting).toBeNull();
      await recordOperationHistory(h, op.id, 'migrate-vm.two-phase.finalized');
      await expectSettledOn(vm.id, target(), 'running');
      const late = await h.call('POST', `/v1/operations/${operationId}/finalize`, { key });
      expect([late.status, late.body.error.code]).toEqual([409, 'NOT_WAITING_FOR_FINALIZE']);
    });

    it('a cancel while it waits moves the VM back to the source', async () => {
      const { vm, operationId } = await startTwoPhase();
      await waitForFinalize(operationId);
      const cancel = await h.call('POST', `/v1/operations/${operationId}/cancel`, { key });
      expect(cancel.status).toBe(202);
      const op = await h.waitForOperation(key, operationId);
      expect(op.status).toBe('cancelled');
      await recordOperationHistory(h, op.id, 'migrate-vm.two-phase.cancelled');
      await expectSettledOn(vm.id, source(), 'running');
      const [row] = await h.dataSource.query(`SELECT workflow_id FROM operations WHERE id = $1`, [operationId]);
      expect((await h.temporal.workflow.getHandle(row.workflow_id).describe()).searchAttributes.NodeId).toEqual([source()]);
    });

    it('finalizes by itself once finalizeTimeoutSeconds have passed', async () => {
      const { vm, operationId } = await startTwoPhase({ finalizeTimeoutSeconds: 10 });
      const waiting = await waitForFinalize(operationId);
      expect(Date.parse(waiting.waiting!.until) - Date.now()).toBeLessThanOrEqual(10_000);
      const op = await h.waitForOperation(key, operationId, 30_000);
      expect(op.status).toBe('succeeded');
      await expectSettledOn(vm.id, target(), 'running');
    });
  });

  describe('refusals', () => {
    it('migration-check lists every reason; a refused migration is 409 with them all and starts nothing; bad input is 4xx', async () => {
      const vm = await h.createVm(key, { nodeId: source() });
      const check = await h.call('GET', `/v1/vms/${vm.id}/migration-check`, { key });
      expect(check.status).toBe(200);
      expect(check.body).toMatchObject({ canMigrate: true, mode: 'live', reasons: [], busyWith: null, placementChoice: target() });

      // The target in maintenance and too small: both reasons, not just the first.
      const [node] = await h.dataSource.query(`SELECT status, memory_mb FROM nodes WHERE id = $1`, [target()]);
      await h.dataSource.query(`UPDATE nodes SET status = 'maintenance', memory_mb = 100 WHERE id = $1`, [target()]);
      try {
        const refused = await h.call('GET', `/v1/vms/${vm.id}/migration-check?targetNodeId=${target()}`, { key });
        expect(refused.body.canMigrate).toBe(false);
        expect(refused.body.targets).toEqual([
          {
            nodeId: target(),
            name: 'node-2',
            eligible: false,
            reasons: [expect.objectContaining({ code: 'NODE_NOT_ONLINE' }), expect.objectContaining({ code: 'INSUFFICIENT_MEMORY' })],
          },
        ]);
        const all = await h.call('GET', `/v1/vms/${vm.id}/migration-check`, { key });
        expect(all.body.targets.map((t: { reasons: { code: string }[] }) => t.reasons.map((r) => r.code))).toEqual([
          ['SAME_NODE'],
          ['NODE_NOT_ONLINE', 'INSUFFICIENT_MEMORY'],
        ]);
        expect(all.body.placementChoice).toBeNull();

        const before = await operations();
        const explicit = await h.call('POST', `/v1/vms/${vm.id}/migrate`, { key, body: { targetNodeId: target() } });
        expect([explicit.status, explicit.body.error.code]).toEqual([409, 'MIGRATION_REFUSED']);
        expect(explicit.body.error.details.reasons.map((r: { code: string }) => r.code)).toEqual([
          'NODE_NOT_ONLINE',
          'INSUFFICIENT_MEMORY',
        ]);
        const placed = await h.call('POST', `/v1/vms/${vm.id}/migrate`, { key, body: {} });
        expect([placed.status, placed.body.error.code]).toEqual([409, 'MIGRATION_REFUSED']);
        expect(placed.body.error.details.targets).toHaveLength(2);
        expect(await operations()).toBe(before);
      } finally {
        await h.dataSource.query(`UPDATE nodes SET status = $2, memory_mb = $3 WHERE id = $1`, [target(), node.status, node.memory_mb]);
      }

      const stopped = await h.createVm(key, { nodeId: source(), start: false });
      const before = await operations();
      const cases: [unknown, number, string][] = [
        [{ targetNodeId: 'node-2' }, 400, 'VALIDATION_FAILED'],
        [{ targetNodeId: '00000000-0000-4000-8000-000000000000' }, 412, 'INVALID_PARAMETER'],
        [{ targetNodeId: source() }, 409, 'MIGRATION_REFUSED'],
        [{ mode: 'warp' }, 400, 'VALIDATION_FAILED'],
        [{ finalize: 'later' }, 400, 'VALIDATION_FAILED'],
        [{ finalizeTimeoutSeconds: 60 }, 412, 'INVALID_PARAMETER'],
        [{ finalize: false, finalizeTimeoutSeconds: 5 }, 400, 'VALIDATION_FAILED'],
        [{ finalize: false, finalizeTimeoutSeconds: 90_000 }, 400, 'VALIDATION_FAILED'],
      ];
      for (const [body, status, code] of cases) {
        const res = await h.call('POST', `/v1/vms/${vm.id}/migrate`, { key, body });
        expect([body, res.status, res.body.error?.code]).toEqual([body, status, code]);
      }
      const live = await h.call('POST', `/v1/vms/${stopped.id}/migrate`, { key, body: { mode: 'live' } });
      expect([live.status, live.body.error.details.reasons[0].code]).toEqual([409, 'VM_NOT_RUNNING']);
      expect(await operations()).toBe(before);
      expect((await observeVm(h, vm.id, h.world.nodeIds)).inventory?.locked).toBe(false);

      // Another tenant's VM does not exist for this one.
      const other = await h.newTenant();
      expect((await h.call('GET', `/v1/vms/${vm.id}/migration-check`, { key: other.apiKey })).status).toBe(404);
      expect((await h.call('POST', `/v1/vms/${vm.id}/migrate`, { key: other.apiKey, body: {} })).status).toBe(404);
    });

    it('a busy VM answers 409 naming the operation; the check says so', async () => {
      const vm = await h.createVm(key, { nodeId: source() });
      await h.sim.setLatency({ method: 'stopVm', ms: 2000 });
      const holder = await h.call('POST', `/v1/vms/${vm.id}/reboot`, { key });
      const res = await h.call('POST', `/v1/vms/${vm.id}/migrate`, { key, body: {} });
      expect([res.status, res.body.error.code, res.body.error.details.operationId]).toEqual([409, 'VM_BUSY', holder.body.id]);
      const check = await h.call('GET', `/v1/vms/${vm.id}/migration-check`, { key });
      expect(check.body).toMatchObject({ canMigrate: false, busyWith: { operationId: holder.body.id, type: 'vm.reboot' } });
      await h.waitForOperation(key, holder.body.id);
    });

    it('counts a migrating VM on both nodes: what the target reserved is not handed out twice', async () => {
      const vm = await h.createVm(key, { nodeId: source() });
      const [node] = await h.dataSource.query(`SELECT memory_mb FROM nodes WHERE id = $1`, [target()]);
      const admin = await h.newTenant('admin');
      const usage = async () =>
        ((await h.call('GET', '/v1/nodes', { key: admin.apiKey })).body.items as { id: string; used: { memoryMb: number } }[]).find(
          (n) => n.id === target(),
        )!.used.memoryMb;
      const res = await h.call('POST', `/v1/vms/${vm.id}/migrate`, { key, body: { finalize: false } });
      await waitUntil('the migration waits for its finalize', async () => (await getOp(res.body.id)).waiting !== null);
      const used = await usage();
      // Room on the target for exactly one more VM of this size: a second migration there is refused.
      await h.dataSource.query(`UPDATE nodes SET memory_mb = $2 WHERE id = $1`, [target(), used + 512]);
      try {
        const second = await h.createVm(key, { nodeId: source() });
        const third = await h.createVm(key, { nodeId: source() });
        expect((await h.runOperation(key, 'POST', `/v1/vms/${second.id}/migrate`, { targetNodeId: target() })).status).toBe('succeeded');
        const refused = await h.call('POST', `/v1/vms/${third.id}/migrate`, { key, body: { targetNodeId: target() } });
        expect([refused.status, refused.body.error.details.reasons.map((r: { code: string }) => r.code)]).toEqual([
          409,
          ['INSUFFICIENT_MEMORY'],
        ]);
      } finally {
        await h.dataSource.query(`UPDATE nodes SET memory_mb = $2 WHERE id = $1`, [target(), node.memory_mb]);
      }
      await h.call('POST', `/v1/operations/${res.body.id}/cancel`, { key });
      expect((await h.waitForOperation(key, res.body.id)).status).toBe('cancelled');
      // The cancelled one's VM went back and gave its room back; the second one's VM is on the target now.
      expect(await usage()).toBe(used);
    });
  });
});

/** The agents of both nodes killed (SIGKILL) in the middle of each step of a live migration. */
describe('migration with the node agents killed at each step', () => {
  let h: Harness;
  let key: string;
  let agent: ChildProcess | null = null;

  beforeAll(async () => {
    h = await startHarness({ agentNodes: () => [] });
    ({ apiKey: key } = await h.newTenant());
    agent = await startAgentProcess(h);
  });
  afterAll(async () => {
    await stopAppProcess(agent, 'SIGTERM');
    await h?.close();
  });
  afterEach(() => h.resetFaults());

  it.each(['prepareMigrationTarget', 'transferVm', 'switchOverVm', 'cleanUpMigrationSource'] as const)(
    'killed during %s: the step is retried once an agent is back, and the VM ends on the target alone',
    async (method) => {
      const [source, target] = h.world.nodeIds;
      const vm = await h.createVm(key, { nodeId: source });
      const calls = await h.sim.callCount(method);
      await h.sim.setLatency({ method, ms: 2000 });
      const res = await h.call('POST', `/v1/vms/${vm.id}/migrate`, { key, body: { targetNodeId: target } });
      expect(res.status).toBe(202);
      while ((await h.sim.callCount(method)) === calls) await new Promise((r) => setTimeout(r, 50));
      await stopAppProcess(agent);
      await h.sim.clearLatency();
      agent = await startAgentProcess(h);
      const op = await h.waitForOperation(key, res.body.id, 90_000);
      expect({ method, status: op.status, error: op.error }).toEqual({ method, status: 'succeeded', error: null });
      const seen = await observeVm(h, vm.id, h.world.nodeIds);
      expect(seen.placement).toEqual({ inventoryNodeId: target, definedOn: [target] });
      for (const node of h.world.nodeIds) expect((await h.auditNode(node)).diff).toMatchObject({ clean: true });
    },
  );
});
