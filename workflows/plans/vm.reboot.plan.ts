import type { OperationPlan, VmPowerInput } from '../../libs/contracts/src';
import { startVmStep, stopVmStep } from './steps';

/**
 * vm.reboot (Gandi, Erigones): ACPI shutdown, powered off if the guest has not stopped within the timeout
 * (`force`: at once), then started again. Undo: a VM left off by a failed start is started again.
 */
export function rebootVmPlan({ nodeId, vmId, hostname, timeoutSeconds = 180, force = false }: VmPowerInput): OperationPlan {
  return { steps: [stopVmStep(nodeId, vmId, hostname, force ? 0 : timeoutSeconds), startVmStep(nodeId, vmId, hostname)] };
}
