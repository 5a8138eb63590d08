import { isDriverActivity, isWaitStep, type MigrateVmInput } from '../../libs/contracts/src';
import { expectSound } from '../../test/support/plan-kit';
import { migrateVmPlan } from './vm.migrate.plan';

const input: MigrateVmInput = {
  operationId: 'op',
  vmId: 'vm-1',
  hostname: 'web-1',
  nodeId: 'src',
  nodeName: 'node-1',
  targetNodeId: 'dst',
  targetNodeName: 'node-2',
  migrationId: 'op',
  mode: 'live',
  running: true,
  finalizeTimeoutSeconds: null,
  stopTimeoutSeconds: 180,
};
const names = (plan: ReturnType<typeof migrateVmPlan>) => plan.steps.map((s) => s.name);

describe('vm.migrate plan', () => {
  it('live: every step before the recorded move is undone, and the move is the point of no return', () => {
    const plan = migrateVmPlan(input);
    expectSound(plan);
    expect(names(plan)).toEqual(['prepareTarget', 'transfer', 'switchOver', 'recordMove', 'cleanUpSource']);
    expect(plan.steps.filter((s) => s.undo).map((s) => [s.name, s.undo!.activity])).toEqual([
      ['prepareTarget', 'abortMigration'],
      ['switchOver', 'switchBackVm'],
      ['recordMove', 'recordVmNode'],
    ]);
    expect(plan.steps.filter((s) => s.commit).map((s) => s.name)).toEqual(['recordMove']);
    expect(plan.steps.find((s) => s.name === 'switchOver')?.movesVm).toEqual({ from: 'src', to: 'dst' });
  });

  it('routes the reservation and its undo to the target, every other driver step to the source', () => {
    const nodes = migrateVmPlan({ ...input, mode: 'cold' }).steps.flatMap((s) =>
      isWaitStep(s) || !isDriverActivity(s.do.activity)
        ? []
        : [[s.name, (s.do.args as { nodeId: string }).nodeId, (s.undo?.args as { nodeId?: string } | undefined)?.nodeId ?? null]],
    );
    expect(nodes).toEqual([
      ['stopVm', 'src', 'src'],
      ['prepareTarget', 'dst', 'dst'],
      ['transfer', 'src', null],
      ['switchOver', 'src', 'src'],
      ['startOnTarget', 'dst', 'dst'],
      ['cleanUpSource', 'src', null],
    ]);
  });

  it('cold stops and starts only a running VM', () => {
    expect(names(migrateVmPlan({ ...input, mode: 'cold', running: false }))).toEqual([
      'prepareTarget',
      'transfer',
      'switchOver',
      'recordMove',
      'cleanUpSource',
    ]);
  });

  it('two-phase: waits for the finalize after the recorded move; finalized, it is past its point of no return', () => {
    const plan = migrateVmPlan({ ...input, finalizeTimeoutSeconds: 600 });
    expectSound(plan);
    expect(names(plan)).toEqual(['prepareTarget', 'transfer', 'switchOver', 'recordMove', 'awaitFinalize', 'cleanUpSource']);
    const wait = plan.steps[4];
    expect(isWaitStep(wait) && wait.wait).toMatchObject({ for: 'finalize', timeoutSeconds: 600 });
    expect(plan.steps.filter((s) => s.commit).map((s) => s.name)).toEqual(['awaitFinalize']);
  });
});
