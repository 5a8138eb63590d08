import type { DriverActivities } from './activities';
/** Input of createVmWorkflow. Every id is chosen by the API before the start, so each step is idempotent. */
export interface CreateVmInput {
  operationId: string;
  tenantId: string;
  vmId: string;
  hostname: string;
  nodeId: string;
  templateId: string;
  systemDiskId: string;
  systemDiskSizeGb: number;
  cpus: number;
  memoryMb: number;
  /** false: the VM is defined but left stopped. */
  start: boolean;
  /** Whether the template's guest runs an agent (graceful shutdown, fsfreeze); true when absent. */
  guestAgent?: boolean;
}


export type VmPowerState = 'running' | 'stopped';

/** What every operation on one existing VM starts from. */
export interface VmOperationInput {
  operationId: string;
  vmId: string;
  hostname: string;
  nodeId: string;
}

/** Input of the power workflows and of resetVmWorkflow; each reads the options it has. */
export interface VmPowerInput extends VmOperationInput {
  /** start: boot this once from an ISO. */
  bootIso?: string;
  /** stop, shutdown, reboot: seconds the guest gets to power off after ACPI. */
  timeoutSeconds?: number;
  /** stop, reboot: skip the graceful part (power off / hard reset at once). */
  force?: boolean;
}

/** Graceful stop timeouts (Erigones): 180 s, 300 s for Windows guests. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = { default: 180, windows: 300 } as const;

export interface SnapshotCreateInput extends VmOperationInput {
  snapshotId: string;
  diskId: string;
  name: string;
  fsfreeze: boolean;
}

export interface SnapshotDeleteInput extends VmOperationInput {
  snapshots: { snapshotId: string; name: string }[];
}

/**
 * In-place rollback (Erigones): the snapshot's data is written back over its disk, or over a disk of another
 * VM on the same node (`vmId` is then that VM: it is the one changed and locked).
 */
export interface SnapshotRollbackInput extends VmOperationInput {
  snapshotId: string;
  snapshotName: string;
  targetDiskId: string;
  /** Snapshots the rollback destroys (newer ones on the disk, or every one on a target disk). */
  discarded: { snapshotId: string; name: string }[];
  /** The VM runs and was asked to be stopped first; it is started again afterwards. */
  stopFirst: boolean;
  stopTimeoutSeconds: number;
}

/**
 * New-disk rollback (Gandi disk_rollback): a new disk is made from the snapshot and takes the old disk's
 * place; the old disk (and its snapshots) goes only once the VM runs on the new one.
 */
export interface DiskRollbackInput extends VmOperationInput {
  snapshotId: string;
  snapshotName: string;
  oldDiskId: string;
  newDiskId: string;
  position: number;
  sizeGb: number;
  wasRunning: boolean;
  stopTimeoutSeconds: number;
}

/** The driver reads the API may ask of a node (readNodeWorkflow). */
export const NODE_READS = ['auditNode', 'getVm', 'getDisk', 'listSnapshots', 'consoleUrl', 'usage'] as const;
export type NodeReadActivity = (typeof NODE_READS)[number];

/** Input of readNodeWorkflow: one read, as data. */
export type NodeRead = {
  [K in NodeReadActivity]: { activity: K; args: Parameters<DriverActivities[K]>[0]; summary: string };
}[NodeReadActivity];

/** What a read resolves to. */
export type NodeReadResult<K extends NodeReadActivity> = Exclude<Awaited<ReturnType<DriverActivities[K]>>['result'], undefined>;
