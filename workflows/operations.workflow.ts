import { deprecatePatch, patched } from '@temporalio/workflow';
import { OPERATIONS, type PlannedOperation } from './catalogue';
import { runOperation } from './operation-runner';

/**
 * The workflow of an operation that runs its catalogue entry's plan: its saga, recorded on the operation (and on
 * its VM, if it has one). An entry with a patch runs the plan from before the patch in executions that started
 * before it. Named after the entry's workflowType, the name the worker registers it under.
 */
export function operationWorkflow<I extends { operationId: string; vmId?: string | null }>(
  entry: PlannedOperation<I>,
): (input: I) => Promise<void> {
  const workflow = async (input: I): Promise<void> => {
    for (const id of entry.deprecatedPatches ?? []) deprecatePatch(id);
    const plan = entry.patch && !patched(entry.patch.id) ? entry.patch.before(input) : entry.plan(input);
    await runOperation({ operationId: input.operationId, vmId: input.vmId ?? null }, plan);
  };
  return Object.defineProperty(workflow, 'name', { value: entry.workflowType });
}

// Every operation whose workflow runs a plan. A drain, which runs child operations, has a workflow file of its own.
export const createVmWorkflow = operationWorkflow(OPERATIONS['vm.create']);
export const cloneVmWorkflow = operationWorkflow(OPERATIONS['vm.clone']);
export const deleteVmWorkflow = operationWorkflow(OPERATIONS['vm.delete']);
export const updateVmWorkflow = operationWorkflow(OPERATIONS['vm.update']);
export const rebuildVmWorkflow = operationWorkflow(OPERATIONS['vm.rebuild']);
export const migrateVmWorkflow = operationWorkflow(OPERATIONS['vm.migrate']);
export const startVmWorkflow = operationWorkflow(OPERATIONS['vm.start']);
export const stopVmWorkflow = operationWorkflow(OPERATIONS['vm.stop']);
export const resetVmWorkflow = operationWorkflow(OPERATIONS['vm.reset']);
export const shutdownVmWorkflow = operationWorkflow(OPERATIONS['vm.shutdown']);
export const rebootVmWorkflow = operationWorkflow(OPERATIONS['vm.reboot']);
export const hardResetVmWorkflow = operationWorkflow(OPERATIONS['vm.hard_reset']);
export const freezeVmWorkflow = operationWorkflow(OPERATIONS['vm.freeze']);
export const unfreezeVmWorkflow = operationWorkflow(OPERATIONS['vm.unfreeze']);
export const createDiskWorkflow = operationWorkflow(OPERATIONS['disk.create']);
export const attachDiskWorkflow = operationWorkflow(OPERATIONS['disk.attach']);
export const detachDiskWorkflow = operationWorkflow(OPERATIONS['disk.detach']);
export const resizeDiskWorkflow = operationWorkflow(OPERATIONS['disk.resize']);
export const deleteDiskWorkflow = operationWorkflow(OPERATIONS['disk.delete']);
export const createNicWorkflow = operationWorkflow(OPERATIONS['nic.create']);
export const attachNicWorkflow = operationWorkflow(OPERATIONS['nic.attach']);
export const detachNicWorkflow = operationWorkflow(OPERATIONS['nic.detach']);
export const deleteNicWorkflow = operationWorkflow(OPERATIONS['nic.delete']);
export const createSnapshotWorkflow = operationWorkflow(OPERATIONS['snapshot.create']);
export const deleteSnapshotsWorkflow = operationWorkflow(OPERATIONS['snapshot.delete']);
export const syncSnapshotsWorkflow = operationWorkflow(OPERATIONS['snapshot.sync']);
export const rollbackSnapshotWorkflow = operationWorkflow(OPERATIONS['snapshot.rollback']);
export const rollbackDiskWorkflow = operationWorkflow(OPERATIONS['disk.rollback']);
export const createTemplateWorkflow = operationWorkflow(OPERATIONS['template.create']);
export const deleteTemplateWorkflow = operationWorkflow(OPERATIONS['template.delete']);
export const copyDiskWorkflow = operationWorkflow(OPERATIONS['disk.copy']);
