import { ApplicationFailure } from '@temporalio/common';
import { DRIVER_UNDO_ARG, type DriverActivities } from '@vmops/contracts';
import type { HypervisorDriver } from '@vmops/driver';
import { step, type ReportProgress } from '@vmops/activities';

/**
 * The driver steps of one node, for that node's agent: thin, idempotent calls into its hypervisor. The node is the
 * one this agent serves: the runner leaves it out of a call's arguments, since the call's queue names it. A call
 * that names another node (as calls did before) is a routing bug and fails for good rather than touch the wrong
 * host. Which failures end a step is decided here for a saga's steps (step()'s decideRetry).
 */
export function createDriverActivities(driver: HypervisorDriver, servedNodeId: string): DriverActivities {
  const on = <A extends { nodeId: string }, R>(work: (args: A, progress: ReportProgress) => Promise<R>) =>
    step<A, R>(
      (args, progress) => {
        const { [DRIVER_UNDO_ARG]: _undo, ...call } = args as A & { [DRIVER_UNDO_ARG]?: true };
        if (call.nodeId !== undefined && call.nodeId !== servedNodeId) {
          throw ApplicationFailure.retryable(`a step for node ${call.nodeId} reached the agent of node ${servedNodeId}`, 'MisroutedStep');
        }
        return work({ ...call, nodeId: servedNodeId } as A, progress);
      },
      { decideRetry: true },
    );

  return {
    defineVm: on(({ nodeId, ...definition }) => driver.defineVm(nodeId, definition)),
    undefineVm: on(({ nodeId, vmId }) => driver.undefineVm(nodeId, vmId)),
    getVm: on(({ nodeId, vmId }) => driver.getVm(nodeId, vmId)),
    resizeVm: on(({ nodeId, vmId, cpus, memoryMb }) => driver.resizeVm(nodeId, vmId, { cpus, memoryMb })),
    startVm: on(({ nodeId, vmId, bootIso }) => driver.startVm(nodeId, vmId, { bootIso })),
    shutdownVm: on(({ nodeId, vmId }) => driver.shutdownVm(nodeId, vmId)),
    stopVm: on(({ nodeId, vmId, timeoutSeconds }, progress) => driver.stopVm(nodeId, vmId, { timeoutSeconds, onProgress: progress })),
    forceStopVm: on(({ nodeId, vmId }) => driver.forceStopVm(nodeId, vmId)),
    stopVmWithTimeout: on(async ({ nodeId, vmId, timeoutSeconds, onTimeout }, progress) => {
      const outcome = timeoutSeconds > 0 ? await driver.stopVm(nodeId, vmId, { timeoutSeconds, onProgress: progress }) : 'timed_out';
      if (outcome === 'stopped') return 'graceful' as const;
      if (onTimeout === 'fail') {
        throw ApplicationFailure.retryable(
          `the guest did not power off within ${timeoutSeconds} s of the ACPI shutdown`,
          'GuestDidNotStop',
        );
      }
      await driver.forceStopVm(nodeId, vmId);
      return 'forced' as const;
    }),
    resetVm: on(({ nodeId, vmId }) => driver.resetVm(nodeId, vmId)),
    freezeVm: on(({ nodeId, vmId }) => driver.freezeVm(nodeId, vmId)),
    unfreezeVm: on(({ nodeId, vmId }) => driver.unfreezeVm(nodeId, vmId)),
    consoleUrl: on(({ nodeId, vmId }) => driver.consoleUrl(nodeId, vmId)),
    usage: on(({ nodeId, vmId }) => driver.usage(nodeId, vmId)),
    createBlankDisk: on(({ nodeId, ...disk }) => driver.createBlankDisk(nodeId, disk)),
    createDiskFromTemplate: on(({ nodeId, ...disk }) => driver.createDiskFromTemplate(nodeId, disk)),
    createDiskFromSnapshot: on(({ nodeId, ...disk }) => driver.createDiskFromSnapshot(nodeId, disk)),
    captureImage: on(({ nodeId, ...image }) => driver.captureImage(nodeId, image)),
    deleteImage: on(({ nodeId, imageId }) => driver.deleteImage(nodeId, imageId)),
    resizeDisk: on(({ nodeId, diskId, sizeGb }) => driver.resizeDisk(nodeId, diskId, sizeGb)),
    deleteDisk: on(({ nodeId, diskId }) => driver.deleteDisk(nodeId, diskId)),
    getDisk: on(({ nodeId, diskId }) => driver.getDisk(nodeId, diskId)),
    attachDisk: on(({ nodeId, ...attachment }) => driver.attachDisk(nodeId, attachment)),
    detachDisk: on(({ nodeId, ...attachment }) => driver.detachDisk(nodeId, attachment)),
    createSnapshot: on(({ nodeId, ...snapshot }) => driver.createSnapshot(nodeId, snapshot)),
    listSnapshots: on(({ nodeId, diskId }) => driver.listSnapshots(nodeId, { diskId })),
    deleteSnapshot: on(({ nodeId, snapshotId }) => driver.deleteSnapshot(nodeId, snapshotId)),
    rollbackSnapshot: on(({ nodeId, snapshotId, ...options }) => driver.rollbackSnapshot(nodeId, snapshotId, options)),
    createNic: on(({ nodeId, ...nic }) => driver.createNic(nodeId, nic)),
    attachNic: on(({ nodeId, ...attachment }) => driver.attachNic(nodeId, attachment)),
    detachNic: on(({ nodeId, ...attachment }) => driver.detachNic(nodeId, attachment)),
    deleteNic: on(({ nodeId, nicId }) => driver.deleteNic(nodeId, nicId)),
    prepareMigrationTarget: on(({ nodeId, ...migration }) => driver.prepareMigrationTarget(nodeId, migration)),
    transferVm: on(({ nodeId, migrationId }, progress) => driver.transferVm(nodeId, migrationId, progress)),
    switchOverVm: on(({ nodeId, migrationId }) => driver.switchOverVm(nodeId, migrationId)),
    switchBackVm: on(({ nodeId, migrationId }) => driver.switchBackVm(nodeId, migrationId)),
    abortMigration: on(({ nodeId, migrationId }) => driver.abortMigration(nodeId, migrationId)),
    cleanUpMigrationSource: on(({ nodeId, migrationId }) => driver.cleanUpMigrationSource(nodeId, migrationId)),
    getMigration: on(({ nodeId, migrationId }) => driver.getMigration(nodeId, migrationId)),
    auditNode: on(({ nodeId }) => driver.audit(nodeId)),
  };
}
