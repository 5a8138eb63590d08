import type { RebuildVmInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { rebuildVmPlan } from './plans/vm.plan';

export async function rebuildVmWorkflow(input: RebuildVmInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, rebuildVmPlan(input));
}
