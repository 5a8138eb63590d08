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

/** Input of the power workflows (startVmWorkflow, stopVmWorkflow) and of resetVmWorkflow. */
export interface VmPowerInput {
  operationId: string;
  vmId: string;
  hostname: string;
  nodeId: string;
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
