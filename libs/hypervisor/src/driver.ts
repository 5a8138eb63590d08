export type PowerState = 'running' | 'stopped';

export interface VmDefinition {
  vmId: string;
  hostname: string;
  cpus: number;
  memoryMb: number;
  /** Disks to attach, by position; 0 is the boot disk. */
  disks: { diskId: string; position: number }[];
}

export interface VmInfo extends Omit<VmDefinition, 'disks'> {
  nodeId: string;
  powerState: PowerState;
}

export interface DiskInfo {
  nodeId: string;
  diskId: string;
  sizeGb: number;
  templateId: string | null;
  vmId: string | null;
  position: number | null;
}

/** Everything a node holds, for diffing against the inventory. */
export interface NodeAudit {
  nodeId: string;
  vms: VmInfo[];
  disks: DiskInfo[];
}

/**
 * What the control plane asks of a hypervisor host. Every call is idempotent, so a retried activity
 * converges: creating what already exists as asked, deleting what is gone, starting what runs — all succeed.
 */
export interface HypervisorDriver {
  createDiskFromTemplate(nodeId: string, disk: { diskId: string; templateId: string; sizeGb: number }): Promise<void>;
  deleteDisk(nodeId: string, diskId: string): Promise<void>;
  getDisk(nodeId: string, diskId: string): Promise<DiskInfo | null>;

  /** Defines the VM stopped, with its disks attached. */
  defineVm(nodeId: string, definition: VmDefinition): Promise<void>;
  /** Removes the VM's definition; its disks stay, detached. The VM must be stopped. */
  undefineVm(nodeId: string, vmId: string): Promise<void>;
  getVm(nodeId: string, vmId: string): Promise<VmInfo | null>;
  startVm(nodeId: string, vmId: string): Promise<void>;
  /** Pulls the plug: no guest cooperation needed. */
  forceStopVm(nodeId: string, vmId: string): Promise<void>;

  audit(nodeId: string): Promise<NodeAudit>;
}
