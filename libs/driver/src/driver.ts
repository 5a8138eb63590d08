/**
 * `stopping`: the guest was asked to power off (ACPI) and is shutting down; it reads `stopped` once it has.
 * A frozen VM keeps its power state; its vCPUs are paused and it refuses to start until unfrozen.
 */
export type PowerState = 'running' | 'stopping' | 'stopped';

export interface Attachment {
  id: string;
  /** 0 is the boot disk (for disks) or the first interface (for NICs). */
  position: number;
}

export interface VmDefinition {
  vmId: string;
  hostname: string;
  cpus: number;
  memoryMb: number;
  /** Whether the guest runs an agent that answers a graceful shutdown (and fsfreeze). */
  guestAgent: boolean;
  disks: Attachment[];
  nics: Attachment[];
  /** Hash of the initial root password, set in the guest at first boot (cloud-init); never the password. */
  rootPasswordHash?: string | null;
}

export interface VmInfo extends VmDefinition {
  nodeId: string;
  powerState: PowerState;
  frozen: boolean;
  /** The ISO the VM booted from this once, or null when it booted from its disk. */
  bootIso: string | null;
  /** When the VM last started, or null when it is stopped. */
  startedAt: string | null;
}

export interface DiskInfo {
  nodeId: string;
  diskId: string;
  sizeGb: number;
  /**
   * A label standing for the disk's data: `blank`, `template:<id>` when created, a snapshot's content when
   * created from or rolled back to it; guest writes change it.
   */
  content: string;
  vmId: string | null;
  position: number | null;
}

export interface SnapshotInfo {
  nodeId: string;
  snapshotId: string;
  diskId: string;
  name: string;
  sizeGb: number;
  /** Whether the guest's filesystems were frozen while it was taken (consistent). */
  fsfreeze: boolean;
  createdAt: string;
}

export interface NicInfo {
  nodeId: string;
  nicId: string;
  mac: string;
  network: string;
  vmId: string | null;
  position: number | null;
}

export type MigrationState = 'prepared' | 'transferring' | 'transferred' | 'switched' | 'completed';

export interface MigrationInfo {
  migrationId: string;
  vmId: string;
  sourceNodeId: string;
  targetNodeId: string;
  state: MigrationState;
  /** 0 to 100: how much of the VM's disks and memory reached the target. */
  progress: number;
  /** What the transfer copies: every disk, and the memory of a VM that runs (a live migration). */
  bytesTotal: number;
}

export interface NodeCapacity {
  cpus: number;
  memoryMb: number;
  storageGb: number;
}

/** Everything a node holds, for diffing against the inventory. */
export interface NodeAudit {
  nodeId: string;
  capacity: NodeCapacity;
  /** Memory of the VMs that run, storage of every disk, and what migrations reserved. */
  used: { memoryMb: number; storageGb: number };
  vms: VmInfo[];
  disks: DiskInfo[];
  snapshots: SnapshotInfo[];
  nics: NicInfo[];
  /** Migrations this node takes part in, as source or target, that are not completed. */
  migrations: MigrationInfo[];
}

export interface VmUsage {
  uptimeSeconds: number;
  cpuSeconds: number;
  memoryUsedMb: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  netRxBytes: number;
  netTxBytes: number;
}

/** Reports how far a long call got; the activity turns it into a heartbeat. */
export type ProgressListener = (progress: number) => void;

/** How far a migration's copy got: a percentage, and the bytes copied of all it copies (see MigrationInfo.bytesTotal). */
export type TransferListener = (progress: { percent: number; bytesTransferred: number; bytesTotal: number }) => void;

/**
 * What the control plane asks of a hypervisor host. Every call names the node it runs on and is idempotent:
 * creating what already exists as asked, deleting what is gone, starting what runs — all succeed, so a
 * retried activity converges. Rules a host enforces fail with typed errors (see errors.ts).
 */
export interface HypervisorDriver {
  // VMs
  /** Defines the VM stopped, with its disks and interfaces attached at their positions. */
  defineVm(nodeId: string, definition: VmDefinition): Promise<void>;
  /** Removes the definition; disks and interfaces stay, detached. The VM must be stopped. */
  undefineVm(nodeId: string, vmId: string): Promise<void>;
  /** The live view of the VM, or null when the node has no such VM. */
  getVm(nodeId: string, vmId: string): Promise<VmInfo | null>;
  /** New vCPU and memory sizes, applied to a stopped VM. */
  resizeVm(nodeId: string, vmId: string, size: { cpus: number; memoryMb: number }): Promise<void>;
  /** Powers the VM on, booting this once from `bootIso` when given. */
  startVm(nodeId: string, vmId: string, options?: { bootIso?: string }): Promise<void>;
  /** Sends the ACPI power button press and returns; whether the guest obeys is up to the guest. */
  shutdownVm(nodeId: string, vmId: string): Promise<void>;
  /** ACPI shutdown, then waits up to `timeoutSeconds` for the guest to power off. */
  stopVm(
    nodeId: string,
    vmId: string,
    options: { timeoutSeconds: number; onProgress?: ProgressListener },
  ): Promise<'stopped' | 'timed_out'>;
  /** Pulls the plug: no guest cooperation needed. */
  forceStopVm(nodeId: string, vmId: string): Promise<void>;
  /** Hard reset of a running VM (the reset button). */
  resetVm(nodeId: string, vmId: string): Promise<void>;
  freezeVm(nodeId: string, vmId: string): Promise<void>;
  unfreezeVm(nodeId: string, vmId: string): Promise<void>;
  consoleUrl(nodeId: string, vmId: string): Promise<string>;
  usage(nodeId: string, vmId: string): Promise<VmUsage>;

  // Disks
  createBlankDisk(nodeId: string, disk: { diskId: string; sizeGb: number }): Promise<void>;
  /** A new disk holding the template's image: one captured from a disk (captureImage), or the base image of that id. */
  createDiskFromTemplate(nodeId: string, disk: { diskId: string; templateId: string; sizeGb: number }): Promise<void>;
  /** A new disk holding the snapshot's content; `sizeGb` (at least the snapshot's) defaults to the snapshot's size. */
  createDiskFromSnapshot(nodeId: string, disk: { diskId: string; snapshotId: string; sizeGb?: number }): Promise<void>;
  /**
   * Copies a disk into the image store every node reads templates from, as image `imageId`: the disk of a stopped
   * VM, or of a running one whose guest agent freezes its filesystems meanwhile (`fsfreeze`).
   */
  captureImage(nodeId: string, image: { imageId: string; diskId: string; fsfreeze: boolean }): Promise<void>;
  /** Removes a captured image from the store. */
  deleteImage(nodeId: string, imageId: string): Promise<void>;
  /** Grows a disk; shrinking is refused. */
  resizeDisk(nodeId: string, diskId: string, sizeGb: number): Promise<void>;
  /** The disk must be detached; its snapshots go with it. */
  deleteDisk(nodeId: string, diskId: string): Promise<void>;
  getDisk(nodeId: string, diskId: string): Promise<DiskInfo | null>;
  /** Position 0 (the boot disk) only while the VM is stopped; other positions hot-plug. */
  attachDisk(nodeId: string, attachment: { diskId: string; vmId: string; position: number }): Promise<void>;
  /** The boot disk only from a stopped VM. */
  detachDisk(nodeId: string, attachment: { diskId: string; vmId: string }): Promise<void>;

  // Snapshots
  /** `fsfreeze` freezes the guest's filesystems while the snapshot is taken: needs a guest agent if the VM runs. */
  createSnapshot(nodeId: string, snapshot: { snapshotId: string; diskId: string; name: string; fsfreeze: boolean }): Promise<void>;
  listSnapshots(nodeId: string, filter?: { diskId?: string }): Promise<SnapshotInfo[]>;
  deleteSnapshot(nodeId: string, snapshotId: string): Promise<void>;
  /**
   * Writes the snapshot's content back over its disk, or over `targetDiskId` (at least as large). The disk's VM
   * must be stopped. Snapshots the rollback invalidates (newer ones on the same disk, every one on a target
   * disk) are refused unless `discardSnapshots`, which deletes them.
   */
  rollbackSnapshot(nodeId: string, snapshotId: string, options: { targetDiskId?: string; discardSnapshots: boolean }): Promise<void>;

  // Network interfaces
  createNic(nodeId: string, nic: { nicId: string; mac: string; network: string }): Promise<void>;
  attachNic(nodeId: string, attachment: { nicId: string; vmId: string; position: number }): Promise<void>;
  detachNic(nodeId: string, attachment: { nicId: string; vmId: string }): Promise<void>;
  deleteNic(nodeId: string, nicId: string): Promise<void>;

  // Migration: each call runs on the node named first (prepare on the target, the rest on the source).
  /** Reserves the VM's memory and storage on the target. */
  prepareMigrationTarget(targetNodeId: string, migration: { migrationId: string; vmId: string; sourceNodeId: string }): Promise<void>;
  /** Copies disks and memory to the target; resumes from where a previous attempt got. */
  transferVm(sourceNodeId: string, migrationId: string, onProgress?: TransferListener): Promise<void>;
  /** The VM runs on the target from now on; the source keeps a stopped copy until cleaned up. */
  switchOverVm(sourceNodeId: string, migrationId: string): Promise<void>;
  /**
   * Undoes the switch-over while the source still holds its copy (before cleanUpMigrationSource): the VM runs on
   * the source again, in the power state it had on the target, with what it wrote there; the target is given back.
   * Nothing to do before the switch-over.
   */
  switchBackVm(sourceNodeId: string, migrationId: string): Promise<void>;
  /** Before the switch-over only: drops the target's reservation and copies; the VM stays on the source. */
  abortMigration(nodeId: string, migrationId: string): Promise<void>;
  /** After the switch-over: frees what the source still held for the VM. */
  cleanUpMigrationSource(sourceNodeId: string, migrationId: string): Promise<void>;
  getMigration(nodeId: string, migrationId: string): Promise<MigrationInfo | null>;

  audit(nodeId: string): Promise<NodeAudit>;
}

export type DriverMethod = keyof HypervisorDriver;

const DRIVER_METHOD_SET: Record<DriverMethod, true> = {
  defineVm: true,
  undefineVm: true,
  getVm: true,
  resizeVm: true,
  startVm: true,
  shutdownVm: true,
  stopVm: true,
  forceStopVm: true,
  resetVm: true,
  freezeVm: true,
  unfreezeVm: true,
  consoleUrl: true,
  usage: true,
  createBlankDisk: true,
  createDiskFromTemplate: true,
  createDiskFromSnapshot: true,
  captureImage: true,
  deleteImage: true,
  resizeDisk: true,
  deleteDisk: true,
  getDisk: true,
  attachDisk: true,
  detachDisk: true,
  createSnapshot: true,
  listSnapshots: true,
  deleteSnapshot: true,
  rollbackSnapshot: true,
  createNic: true,
  attachNic: true,
  detachNic: true,
  deleteNic: true,
  prepareMigrationTarget: true,
  transferVm: true,
  switchOverVm: true,
  switchBackVm: true,
  abortMigration: true,
  cleanUpMigrationSource: true,
  getMigration: true,
  audit: true,
};

/** Every method of the interface, at run time (fault injection validates against it). */
export const DRIVER_METHODS = Object.keys(DRIVER_METHOD_SET) as DriverMethod[];
