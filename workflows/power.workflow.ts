import { patched } from '@temporalio/workflow';
import type { VmPowerInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { freezeVmPlan, hardResetVmPlan, legacyStopVmPlan, rebootVmPlan, shutdownVmPlan, startVmPlan, stopVmPlan } from './plans/power.plan';

// The power family: each workflow runs one plan of plans/power.plan.ts.
const ids = (input: VmPowerInput) => ({ operationId: input.operationId, vmId: input.vmId });

export async function startVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation(ids(input), startVmPlan(input));
}

/** Patch id: vm.stop became graceful (ACPI, force after the timeout) instead of a hard power-off. */
const GRACEFUL_STOP = 'graceful-stop';

export async function stopVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation(ids(input), patched(GRACEFUL_STOP) ? stopVmPlan(input) : legacyStopVmPlan(input));
}

export async function shutdownVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation(ids(input), shutdownVmPlan(input));
}

export async function rebootVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation(ids(input), rebootVmPlan(input));
}

export async function hardResetVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation(ids(input), hardResetVmPlan(input));
}

export async function freezeVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation(ids(input), freezeVmPlan(input, true));
}

export async function unfreezeVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation(ids(input), freezeVmPlan(input, false));
}
