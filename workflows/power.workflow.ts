import { patched } from '@temporalio/workflow';
import type { VmPowerInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { legacyStopVmPlan, stopVmPlan } from './plans/power.plan';

/** Patch id: vm.stop became graceful (ACPI, force after the timeout) instead of a hard power-off. */
const GRACEFUL_STOP = 'graceful-stop';

/** vm.stop: its plan (the catalogue's), or the hard power-off that workflows started before the patch still run. */
export async function stopVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation(
    { operationId: input.operationId, vmId: input.vmId },
    patched(GRACEFUL_STOP) ? stopVmPlan(input) : legacyStopVmPlan(input),
  );
}
