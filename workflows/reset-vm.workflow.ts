import { patched } from '@temporalio/workflow';
import type { VmPowerInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { legacyResetVmPlan, resetVmPlan } from './plans/reset-vm.plan';

/** Patch id: the reset reads the node through its agent (two steps) instead of one shared-worker step. */
const RESET_THROUGH_AGENT = 'reset-reads-node-through-agent';

export async function resetVmWorkflow(input: VmPowerInput): Promise<void> {
  const plan = patched(RESET_THROUGH_AGENT) ? resetVmPlan(input) : legacyResetVmPlan(input);
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, plan);
}
