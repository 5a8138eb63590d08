// The workflow bundle's entry point: every workflow type the worker registers. Most operations' workflows are made
// from their catalogue entries (operations.workflow.ts); the rest have a file of their own.
export {
  attachDiskWorkflow,
  attachNicWorkflow,
  cloneVmWorkflow,
  createDiskWorkflow,
  createNicWorkflow,
  createSnapshotWorkflow,
  createTemplateWorkflow,
  createVmWorkflow,
  deleteDiskWorkflow,
  deleteNicWorkflow,
  deleteSnapshotsWorkflow,
  deleteTemplateWorkflow,
  deleteVmWorkflow,
  detachDiskWorkflow,
  detachNicWorkflow,
  freezeVmWorkflow,
  hardResetVmWorkflow,
  migrateVmWorkflow,
  rebootVmWorkflow,
  rebuildVmWorkflow,
  resetVmWorkflow,
  resizeDiskWorkflow,
  rollbackDiskWorkflow,
  rollbackSnapshotWorkflow,
  shutdownVmWorkflow,
  startVmWorkflow,
  stopVmWorkflow,
  syncSnapshotsWorkflow,
  unfreezeVmWorkflow,
  updateVmWorkflow,
  copyDiskWorkflow,
} from './operations.workflow';
export { drainNodeWorkflow } from './drain-node.workflow';
export { readNodeWorkflow } from './read-node.workflow';
export { scheduledSnapshotWorkflow } from './scheduled-snapshot.workflow';
export { reconcileOperationsWorkflow } from './reconcile-operations.workflow';
