import type { VmPowerInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { startVmPlan, stopVmPlan } from './plans/power.plan';

export async function startVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, startVmPlan(input));
}

export async function stopVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, stopVmPlan(input));
}
