import type { OperationView } from '../../apps/api/src/operations/operation.view';
import { isDriverActivity } from '../../libs/contracts/src';
import type { DriverMethod } from '../../libs/driver/src';
import type { Harness } from './harness';

/** One request under test, made against a world `setup` prepared for it alone. */
export interface SagaRun {
  /** The VM the request changes; null when the request makes it (vm.create). */
  vmId: string | null;
  nodeId: string;
  /** Other nodes the request acts on (a migration's target): faults are injected and the VM looked for there too. */
  otherNodeIds?: string[];
  request: { method: string; path: string; body?: unknown };
}

/**
 * What a test of an operation's saga compares: the VM as the inventory and as its node see it, every field of
 * it, the inventory's records of its disks, interfaces and snapshots (kept apart, so that records left behind
 * by a VM that is gone still show), and on the node its disks with their content, interfaces and snapshots.
 * `inventory` and `node` are null where the VM is absent (before a create, after a create undone). `placement`
 * says which node the inventory records it on and on which of the observed nodes it is defined: a VM must never
 * be defined on two nodes, nor recorded where it is not.
 */
export interface VmObservation {
  placement: { inventoryNodeId: string | null; definedOn: string[] };
  records: {
    disks: { id: string; position: number | null; sizeGb: number }[];
    interfaces: { id: string; position: number | null; mac: string; network: string }[];
    snapshots: { name: string; diskId: string; status: string }[];
  };
  inventory: {
    hostname: string;
    status: string;
    frozen: boolean;
    cpus: number;
    memoryMb: number;
    pendingSize: { cpus: number; memoryMb: number } | null;
    templateId: string | null;
    label: string | null;
    note: string | null;
    locked: boolean;
  } | null;
  node: {
    hostname: string;
    powerState: string;
    frozen: boolean;
    cpus: number;
    memoryMb: number;
    bootIso: string | null;
    /** Attached disks with their content (a version the simulator moves on at writes, snapshots and rollbacks). */
    disks: { id: string; position: number; content: string | null }[];
    nics: { id: string; position: number }[];
    snapshots: { name: string; diskId: string }[];
  } | null;
}

/** Nothing of the VM anywhere: the world before a create. */
export const ABSENT: VmObservation = {
  placement: { inventoryNodeId: null, definedOn: [] },
  records: { disks: [], interfaces: [], snapshots: [] },
  inventory: null,
  node: null,
};

/** The VM as the inventory and the nodes see it; with several nodes, as the node it is defined on sees it. */
export async function observeVm(h: Harness, vmId: string, nodes: string | string[]): Promise<VmObservation> {
  const nodeIds = typeof nodes === 'string' ? [nodes] : nodes;
  const [vm] = await h.dataSource.query(
    `SELECT hostname, status, frozen, cpus, memory_mb, pending_cpus, pending_memory_mb, template_id, label, note, current_operation_id, node_id FROM vms WHERE id = $1`,
    [vmId],
  );
  const definedOn: string[] = [];
  for (const id of nodeIds) if (await h.hypervisor.getVm(id, vmId)) definedOn.push(id);
  const nodeId = definedOn[0] ?? nodeIds[0];
  const disks = await h.dataSource.query(`SELECT id, position, size_gb AS "sizeGb" FROM disks WHERE vm_id = $1 ORDER BY id`, [vmId]);
  const interfaces = await h.dataSource.query(`SELECT id, position, mac, network FROM network_interfaces WHERE vm_id = $1 ORDER BY id`, [
    vmId,
  ]);
  const snapshots = await h.dataSource.query(
    `SELECT name, disk_id AS "diskId", status FROM snapshots WHERE vm_id = $1 ORDER BY name, disk_id`,
    [vmId],
  );
  const live = await h.hypervisor.getVm(nodeId, vmId);
  const diskIds = new Set(live?.disks.map((d) => d.id) ?? []);
  const onNode = (await h.hypervisor.listSnapshots(nodeId)).filter((s) => diskIds.has(s.diskId));
  return {
    placement: { inventoryNodeId: vm?.node_id ?? null, definedOn },
    records: { disks, interfaces, snapshots },
    inventory: vm
      ? {
          hostname: vm.hostname,
          status: vm.status,
          frozen: vm.frozen,
          cpus: vm.cpus,
          memoryMb: vm.memory_mb,
          pendingSize: vm.pending_cpus ? { cpus: vm.pending_cpus, memoryMb: vm.pending_memory_mb } : null,
          templateId: vm.template_id,
          label: vm.label,
          note: vm.note,
          locked: vm.current_operation_id !== null,
        }
      : null,
    node: live && {
      hostname: live.hostname,
      powerState: live.powerState,
      frozen: live.frozen,
      cpus: live.cpus,
      memoryMb: live.memoryMb,
      bootIso: live.bootIso,
      disks: await Promise.all(
        [...live.disks]
          .sort((a, b) => a.id.localeCompare(b.id))
          .map(async (d) => ({ ...d, content: (await h.hypervisor.getDisk(nodeId, d.id))?.content ?? null })),
      ),
      nics: [...live.nics].sort((a, b) => a.id.localeCompare(b.id)),
      snapshots: onNode
        .map((s) => ({ name: s.name, diskId: s.diskId }))
        .sort((a, b) => a.name.localeCompare(b.name) || a.diskId.localeCompare(b.diskId)),
    },
  };
}

export interface SagaCheck {
  /** Makes a fresh world for one run and says what to request. */
  setup(): Promise<SagaRun>;
  /**
   * After a run that failed at driver call `k` of `calls` (-1: at an inventory step): the VM as it must be,
   * stated as the exception to "exactly as before" — a copy of `before` with what may differ changed; the whole
   * observation is still compared. Only where a step is irreversible by nature (a deleted snapshot stays deleted).
   */
  expectedAfterFailure?(before: VmObservation, k: number, calls: DriverMethod[]): VmObservation;
  /**
   * Driver calls past the operation's point of no return (a `commit` step): failing there leaves the operation
   * stuck for a human (FAILED_AFTER_COMMIT) instead of compensated.
   */
  pastPointOfNoReturn?(k: number, calls: DriverMethod[]): boolean;
  /** An inventory step not to fail (say why where it is used). */
  skipInventoryStep?(name: string): boolean;
}

/**
 * The saga conformance of one operation, measured on the real stack:
 * 1. a clean run succeeds, makes at least one driver call, and the driver calls it makes are recorded, in order;
 * 2. for each of those calls, a fresh run where exactly that call fails for good ends compensated (or failed,
 *    when nothing was done yet), the VM as it started (disk content included), the node audit clean and the VM
 *    unlocked — or, past the point of no return, stuck;
 * 3. the same where the call does its work first and then fails for good (an effect that lands before the
 *    failure): the failed step's undo must take it back. A step with no undo (a deletion, a growth, the point of
 *    no return) takes a permanent error at its word and is left out here; its lost reply is phase 6's case;
 * 4. the same for each inventory step of the plan (the test worker's interceptor fails it for good), and, where
 *    the plan has one, for its after-compensation (stuck, naming it);
 * 5. a fresh run where every one of those calls, every inventory activity of the plan and the runner's own
 *    bookkeeping first fails transiently (the faults stack on the first calls of a method) succeeds;
 * 6. a fresh run where every call does its work and then loses its reply once — so every call runs twice —
 *    succeeds, with the node audit clean: each step is idempotent.
 * Returns the driver calls of a clean run, for the test to assert the plan's shape.
 */
export async function checkSaga(h: Harness, key: string, check: SagaCheck): Promise<DriverMethod[]> {
  const launch = async (run: SagaRun): Promise<OperationView> => {
    const res = await h.call(run.request.method, run.request.path, { key, body: run.request.body });
    if (res.status !== 202)
      throw new Error(`${run.request.method} ${run.request.path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return h.waitForOperation(key, res.body.id, 90_000);
  };
  const expectCleanAudit = async (context: string, nodeId: string) => {
    const { diff } = await h.auditNode(nodeId);
    expect({ context, diff }).toEqual({ context, diff: expect.objectContaining({ clean: true }) });
  };
  const nodesOf = (run: SagaRun) => [run.nodeId, ...(run.otherNodeIds ?? [])];
  const observeBefore = (run: SagaRun) => (run.vmId ? observeVm(h, run.vmId, nodesOf(run)) : Promise.resolve(ABSENT));
  const expectAsBefore = async (
    context: string,
    run: SagaRun,
    before: VmObservation,
    k: number,
    calls: DriverMethod[],
    op: OperationView,
  ) => {
    expect({ context, status: op.status }).toEqual({ context, status: expect.stringMatching(/^(compensated|failed)$/) });
    // The VM the run acted on, or the one it was creating.
    const after = await observeVm(h, run.vmId ?? op.vmId!, nodesOf(run));
    const expected = check.expectedAfterFailure ? check.expectedAfterFailure(before, k, calls) : before;
    expect({ context, vm: after }).toEqual({ context, vm: expected });
    for (const nodeId of nodesOf(run)) await expectCleanAudit(context, nodeId);
  };

  const clean = await check.setup();
  const mark = await h.sim.lastCallSeq();
  const ok = await launch(clean);
  expect({ status: ok.status, error: ok.error }).toEqual({ status: 'succeeded', error: null });
  const log = (await h.sim.callLog(mark)).filter((c) => nodesOf(clean).includes(c.nodeId));
  const calls = log.map((c) => c.method);
  // Runs are set up alike, so the k-th call of any run goes to the node of the same role as in the clean run.
  const roleOf = log.map((c) => nodesOf(clean).indexOf(c.nodeId));
  const nodeOfCall = (run: SagaRun, k: number) => nodesOf(run)[roleOf[k]];
  const skipped = (k: number) => calls.slice(0, k).filter((m, i) => m === calls[k] && roleOf[i] === roleOf[k]).length;
  // A run that reached no driver would prove nothing below.
  expect(calls.length).toBeGreaterThan(0);

  const plan = await check.setup();
  const dry = await h.call(plan.request.method, `${plan.request.path}${plan.request.path.includes('?') ? '&' : '?'}dryRun=true`, {
    key,
    body: plan.request.body,
  });
  if (dry.status !== 200) throw new Error(`dry run answered ${dry.status}: ${JSON.stringify(dry.body)}`);
  const steps: DryRunStep[] = dry.body.steps;
  const stepOf = stepsOfCalls(calls, steps);

  for (const lands of [false, true]) {
    for (const [k, method] of calls.entries()) {
      if (lands && !stepOf[k].undoActivity) continue;
      const run = await check.setup();
      const before = await observeBefore(run);
      await h.sim.injectFault({
        method,
        nodeId: nodeOfCall(run, k),
        skipCalls: skipped(k),
        failCalls: 1,
        error: 'invalid_state',
        lands,
        message: `injected: driver call ${k + 1} (${method}) fails for good${lands ? ' after doing its work' : ''}`,
      });
      const op = await launch(run);
      await h.sim.clearFaults();
      const context = `permanent failure${lands ? ' after its effect landed' : ''} at driver call ${k + 1} of ${calls.length} (${method})`;
      expect({ context, message: op.error?.message }).toEqual({ context, message: expect.stringContaining('injected: driver call') });
      // Past the point of no return nothing is undone.
      if (check.pastPointOfNoReturn?.(k, calls)) {
        expect({ context, status: op.status, code: op.error?.code }).toEqual({ context, status: 'stuck', code: 'FAILED_AFTER_COMMIT' });
        continue;
      }
      await expectAsBefore(context, run, before, k, calls, op);
    }
  }

  // Inventory steps too: the test worker's interceptor fails the j-th one for good.
  for (const [j, step] of steps.entries()) {
    if (step.activity === null || isDriverActivity(step.activity) || check.skipInventoryStep?.(step.name)) continue;
    const run = await check.setup();
    const before = await observeBefore(run);
    h.inventoryFaults.fail(step.activity, steps.slice(0, j).filter((s) => s.activity === step.activity).length);
    const op = await launch(run);
    h.inventoryFaults.reset();
    const context = `permanent failure at inventory step ${step.name}`;
    expect({ context, message: op.error?.message }).toEqual({ context, message: expect.stringContaining('injected: inventory step') });
    if (steps.slice(0, j).some((s) => s.commit)) {
      expect({ context, status: op.status }).toEqual({ context, status: 'stuck' });
      continue;
    }
    await expectAsBefore(context, run, before, -1, calls, op);
  }

  // An after-compensation that fails for good leaves the operation stuck, naming it (the first call fails).
  const afterCompensation: string | null = dry.body.afterCompensationActivity;
  if (afterCompensation && !check.pastPointOfNoReturn?.(0, calls)) {
    const run = await check.setup();
    await h.sim.injectFault({
      method: calls[0],
      nodeId: nodeOfCall(run, 0),
      failCalls: 1,
      error: 'invalid_state',
      message: 'injected: the first driver call fails for good',
    });
    const firstDriverStep = steps.findIndex((s) => s.activity !== null && isDriverActivity(s.activity));
    h.inventoryFaults.fail(afterCompensation, steps.slice(0, firstDriverStep).filter((s) => s.activity === afterCompensation).length);
    const op = await launch(run);
    await h.sim.clearFaults();
    h.inventoryFaults.reset();
    const context = `after-compensation ${afterCompensation} fails for good`;
    expect({ context, status: op.status, error: op.error }).toEqual({
      context,
      status: 'stuck',
      error: expect.objectContaining({ code: 'COMPENSATION_FAILED', step: afterCompensation }),
    });
  }

  const transient = async (lands: boolean) => {
    const run = await check.setup();
    for (const [k, method] of calls.entries()) {
      await h.sim.injectFault({ method, nodeId: nodeOfCall(run, k), skipCalls: skipped(k), failCalls: 1, error: 'unavailable', lands });
    }
    // One transient fault per inventory activity of the plan and of the runner's own bookkeeping (the
    // interceptor keeps one per activity); with `lands`, after the activity's write has committed.
    const inventory = [
      ...new Set([
        ...steps.flatMap((st) => (st.activity === null || isDriverActivity(st.activity) ? [] : [st.activity])),
        ...RUNNER_BOOKKEEPING,
      ]),
    ];
    for (const activity of inventory) h.inventoryFaults.fail(activity, 0, true, lands);
    const retried = await launch(run);
    const faults = await h.sim.listFaults();
    const inventoryFired = h.inventoryFaults.fired;
    await h.sim.clearFaults();
    h.inventoryFaults.reset();
    const context = lands ? 'every call does its work, then loses its reply once' : 'every call fails transiently once';
    expect({ context, status: retried.status, error: retried.error }).toEqual({ context, status: 'succeeded', error: null });
    expect({ context, faultsFired: faults.reduce((n, f) => n + f.failed, 0) }).toEqual({ context, faultsFired: calls.length });
    expect({ context, inventoryFired }).toEqual({ context, inventoryFired: inventory.length });
    expect(retried.steps.some((s) => s.attempts > 1)).toBe(true);
    for (const nodeId of nodesOf(run)) await expectCleanAudit(context, nodeId);
  };
  await transient(false);
  await transient(true);
  return calls;
}

interface DryRunStep {
  name: string;
  /** null for a wait step. */
  activity: string | null;
  undoActivity: string | null;
  commit: boolean;
}

/**
 * The plan step that made each driver call of a clean run: the plan's driver steps in order, each calling the
 * driver method of its own name — but the graceful stop, whose agent step calls stopVm and, past its timeout,
 * forceStopVm (or forceStopVm alone, with no timeout).
 */
function stepsOfCalls(calls: DriverMethod[], steps: DryRunStep[]): DryRunStep[] {
  const driverSteps = steps.filter((s) => s.activity !== null && isDriverActivity(s.activity));
  let next = 0;
  return calls.map((method, k) => {
    const step = driverSteps[next];
    if (step?.activity === 'stopVmWithTimeout' && (method === 'stopVm' || method === 'forceStopVm')) return driverSteps[next++];
    if (step && method === step.activity) return driverSteps[next++];
    if (method === 'forceStopVm' && driverSteps[next - 1]?.activity === 'stopVmWithTimeout') return driverSteps[next - 1];
    throw new Error(
      `saga kit: driver call ${k + 1} (${method}) matches no step of the plan (${driverSteps.map((s) => s.activity).join(', ')})`,
    );
  });
}

/** The runner's own activities around every plan: failed transiently in every saga check. */
const RUNNER_BOOKKEEPING = ['markOperationRunning', 'finishOperation'];
