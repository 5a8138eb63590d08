// The workflow bundle's entry point: every workflow type the worker registers.
export { cloneVmWorkflow, createVmWorkflow } from './create-vm.workflow';
export { deleteVmWorkflow } from './delete-vm.workflow';
export { attachDiskWorkflow, createDiskWorkflow, deleteDiskWorkflow, detachDiskWorkflow, resizeDiskWorkflow } from './disks.workflow';
export {
  freezeVmWorkflow,
  hardResetVmWorkflow,
  rebootVmWorkflow,
  shutdownVmWorkflow,
  startVmWorkflow,
  stopVmWorkflow,
  unfreezeVmWorkflow,
} from './power.workflow';
export { drainNodeWorkflow } from './drain-node.workflow';
export { migrateVmWorkflow } from './migrate-vm.workflow';
export { attachNicWorkflow, createNicWorkflow, deleteNicWorkflow, detachNicWorkflow } from './nics.workflow';
export { readNodeWorkflow } from './read-node.workflow';
export { rebuildVmWorkflow } from './rebuild-vm.workflow';
export { resetVmWorkflow } from './reset-vm.workflow';
export { rollbackDiskWorkflow } from './rollback-disk.workflow';
export { scheduledSnapshotWorkflow } from './scheduled-snapshot.workflow';
export { createSnapshotWorkflow, deleteSnapshotsWorkflow, rollbackSnapshotWorkflow, syncSnapshotsWorkflow } from './snapshots.workflow';
export { createTemplateWorkflow, deleteTemplateWorkflow } from './templates.workflow';
export { updateVmWorkflow } from './update-vm.workflow';
export { reconcileOperationsWorkflow } from './reconcile-operations.workflow';
