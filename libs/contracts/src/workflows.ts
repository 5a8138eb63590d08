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
}


export type VmPowerState = 'running' | 'stopped';

/** Input of the power workflows (startVmWorkflow, stopVmWorkflow) and of resetVmWorkflow. */
export interface VmPowerInput {
  operationId: string;
  vmId: string;
  hostname: string;
  nodeId: string;
}
