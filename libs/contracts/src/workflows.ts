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
  /** Blank data disks, attached at positions 1, 2, … */
  dataDisks?: { diskId: string; sizeGb: number; position: number }[];
  /** The VM's first network interface. */
  nic?: NicSpec;
  /** scrypt hash of the initial root password, for the node to set at first boot; never the password. */
  rootPasswordHash?: string;
}

export interface NicSpec {
  nicId: string;
  mac: string;
  network: string;
}

/** A disk of a VM at its position. */
export interface DiskSlot {
  diskId: string;
  position: number;
  sizeGb: number;
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
  /** stop: a size waiting for this stop, applied once the VM is off (from, to). */
  resize?: { from: { cpus: number; memoryMb: number }; to: { cpus: number; memoryMb: number } };
}

/**
 * vm.delete (Gandi semantics by default): the system disk and the first interface go with the VM; the other
 * disks and interfaces are detached and kept, unless `deleteAllDisks`.
 */
export interface DeleteVmInput extends VmOperationInput {
  running: boolean;
  cpus: number;
  memoryMb: number;
  systemDisk: DiskSlot | null;
  /** The VM's other disks; a detached one has position -1. */
  otherDisks: DiskSlot[];
  firstNic: { nicId: string; position: number } | null;
  otherNics: { nicId: string; position: number }[];
  deleteAllDisks: boolean;
}

/** vm.update: new vCPUs and memory; a running VM is restarted to apply them (`restart`). */
export interface UpdateVmInput extends VmOperationInput {
  from: { cpus: number; memoryMb: number };
  to: { cpus: number; memoryMb: number };
  restart: boolean;
  stopTimeoutSeconds: number;
}

/** disk.create: a blank disk, attached at `position` of a VM. */
export interface DiskCreateInput extends VmOperationInput {
  disk: DiskSlot;
}

/**
 * disk.attach: a detached disk goes to `position`; at position 0 of a stopped VM it swaps with the system disk,
 * which moves to `displacedTo`.
 */
export interface DiskAttachInput extends VmOperationInput {
  disk: DiskSlot;
  displaced: { diskId: string; to: number; sizeGb: number } | null;
}

/** disk.detach / disk.delete (which detaches first if needed) / disk.resize. */
export interface DiskChangeInput extends VmOperationInput {
  disk: DiskSlot;
  /** Where the disk is attached now; null when detached. */
  attachedAt: number | null;
  /** disk.resize: the new size. */
  sizeGb?: number;
}

/** nic.create: a new interface on `nic.network`, attached to the VM at `position`. */
export interface NicCreateInput extends VmOperationInput {
  nic: NicSpec;
  position: number;
}

/**
 * nic.attach / nic.detach / nic.delete (which detaches first if needed). `attachedAt`: where the interface is
 * attached now, null when detached; `position`: where nic.attach puts it.
 */
export interface NicChangeInput extends VmOperationInput {
  nicId: string;
  mac: string;
  attachedAt: number | null;
  position?: number;
  /** nic.attach of an interface no VM owned (its VM was deleted): undone, it is nobody's again. */
  claimed?: boolean;
}

/**
 * vm.rebuild (Gigas): every disk is made anew — the system disk from the (possibly new) template, the others
 * blank — and takes the old one's place; the old disks go once the VM is rebuilt.
 */
export interface RebuildVmInput extends VmOperationInput {
  running: boolean;
  startAfter: boolean;
  fromTemplateId: string | null;
  templateId: string;
  /** The system disk first (position 0), then the data disks. */
  replacements: { oldDiskId: string; newDiskId: string; position: number; sizeGb: number }[];
  stopTimeoutSeconds: number;
}

/** Graceful stop timeouts (Erigones): 180 s, 300 s for Windows guests. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = { default: 180, windows: 300 } as const;

/** The graceful stop timeout for a guest of this OS family (its template's). */
export function defaultStopTimeoutFor(osFamily: string | null): number {
  return osFamily === 'windows' ? DEFAULT_STOP_TIMEOUT_SECONDS.windows : DEFAULT_STOP_TIMEOUT_SECONDS.default;
}

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
 * vm.clone (Gigas): a new VM (`vmId`, `hostname`, on `nodeId`) from the disks of `source`, each captured into the
 * image store (the source stopped, or running with its filesystems frozen) and then copied at its position.
 */
export interface CloneVmInput {
  operationId: string;
  tenantId: string;
  vmId: string;
  hostname: string;
  nodeId: string;
  source: { vmId: string; hostname: string; nodeId: string; running: boolean };
  /** Position 0 first; `imageId` is the capture's, deleted once the clone is built. */
  disks: { sourceDiskId: string; imageId: string; diskId: string; position: number; sizeGb: number }[];
  nic: NicSpec | null;
  cpus: number;
  memoryMb: number;
  start: boolean;
}

/** template.create: the VM's system disk captured as the image of template `templateId` (recorded `creating`). */
export interface TemplateCreateInput extends VmOperationInput {
  templateId: string;
  name: string;
  diskId: string;
  /** The VM runs: its filesystems are frozen while the image is captured. */
  fsfreeze: boolean;
}

/** template.delete: the image goes from the store (through the agent of `nodeId`), then the record. */
export interface TemplateDeleteInput {
  operationId: string;
  templateId: string;
  name: string;
  nodeId: string;
}

/** Input of scheduledSnapshotWorkflow, which a snapshot definition's Temporal Schedule starts at each run. */
export interface ScheduledSnapshotInput {
  definitionId: string;
  /** The schedule that starts the runs: a run that finds its definition gone deletes it. */
  scheduleId: string;
  /** A definition with onBusy "retry": how often and how many times a run tries again while the VM is busy. */
  busyRetry: { intervalSeconds: number; attempts: number };
}

/** What launching one operation of a scheduled run came to (see SnapshotScheduleActivities). */
export type ScheduledLaunch<I> =
  | { started: { workflowId: string; tenantId: string; input: I } }
  /** Another operation holds the VM; `onBusy` is the definition's word on it. */
  | { busy: { operationId: string; type: string; onBusy: 'skip' | 'retry' } }
  /** Nothing to do: the definition is gone or inactive, or nothing is beyond its retention. */
  | { nothing: string }
  /** It cannot be done now (the VM is not settled, the snapshot limit is reached): the run fails, saying why. */
  | { refused: { code: string; message: string } };

/** What one scheduled run did, as its workflow's result shows it in the Temporal UI. */
export interface ScheduledSnapshotResult {
  snapshot: ScheduledStepOutcome;
  pruning: ScheduledStepOutcome | null;
}

export interface ScheduledStepOutcome {
  outcome: 'succeeded' | 'failed' | 'skipped' | 'nothing';
  operationId: string | null;
  detail: string | null;
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

export type MigrationMode = 'live' | 'cold';

/**
 * vm.migrate (Gandi migrate / finalize_migration): the VM moves from `nodeId` to `targetNodeId`, live (copied while
 * it runs) or cold (stopped first, started on the target). With `finalizeTimeoutSeconds` the operation waits after
 * the switch-over, the source kept, until it is finalized or that many seconds pass; a cancel meanwhile moves the
 * VM back.
 */
export interface MigrateVmInput extends VmOperationInput {
  nodeName: string;
  targetNodeId: string;
  targetNodeName: string;
  /** The driver's migration id: the operation's id, so a retried step finds the migration it started. */
  migrationId: string;
  mode: MigrationMode;
  running: boolean;
  finalizeTimeoutSeconds: number | null;
  stopTimeoutSeconds: number;
}

/**
 * node.drain: every VM of the node migrates off it, each as a vm.migrate operation of its own (a child
 * workflow), at most `concurrency` at once. The node was put in maintenance by the launch.
 */
export interface DrainNodeInput {
  operationId: string;
  /** The operator's tenant: each migration is recorded in its VM's tenant, as asked for by this one. */
  tenantId: string;
  nodeId: string;
  nodeName: string;
  concurrency: number;
  vms: { vmId: string; hostname: string }[];
}

/** What launching one VM's migration off a draining node came to. */
export type DrainMigrationLaunch =
  | { started: { workflowId: string; tenantId: string; input: MigrateVmInput } }
  /** The VM is no longer on the node (deleted, or moved meanwhile): nothing to do. */
  | { gone: string }
  /** It cannot move: busy, or no node qualifies; the drain reports it and goes on. */
  | { refused: { code: string; message: string } };

/** The driver reads the API may ask of a node (readNodeWorkflow). */
export const NODE_READS = ['auditNode', 'getVm', 'getDisk', 'listSnapshots', 'consoleUrl', 'usage'] as const;
export type NodeReadActivity = (typeof NODE_READS)[number];

/** Input of readNodeWorkflow: one read, as data. */
export type NodeRead = {
  [K in NodeReadActivity]: { activity: K; args: Parameters<DriverActivities[K]>[0]; summary: string };
}[NodeReadActivity];

/** What a read resolves to. */
export type NodeReadResult<K extends NodeReadActivity> = Exclude<Awaited<ReturnType<DriverActivities[K]>>['result'], undefined>;
