import type { OperationPlan, PlannedStep, VmPowerInput } from '../../libs/contracts/src';
import { inOrder, recordPowerStateStep, stopVmStep } from './steps';

/**
 * vm.stop: ACPI shutdown, then a forced power-off if the guest has not stopped within the timeout (`force`:
 * the power-off at once) → [the size waiting for this stop] → record it stopped. Undo: start it again.
 */
export function stopVmPlan({ nodeId, vmId, hostname, timeoutSeconds = 180, force = false, resize }: VmPowerInput): OperationPlan {
  return {
    steps: inOrder<PlannedStep>(
      stopVmStep(nodeId, vmId, hostname, force ? 0 : timeoutSeconds),
      resize && [
        {
          name: 'applyPendingSize',
          do: {
            activity: 'resizeVm',
            args: { nodeId, vmId, ...resize.to },
            summary: `Give ${hostname} the ${resize.to.cpus} vCPU and ${resize.to.memoryMb} MB waiting for this stop`,
          },
          undo: { activity: 'resizeVm', args: { nodeId, vmId, ...resize.from }, summary: `Give ${hostname} back its size` },
        },
        {
          name: 'recordSize',
          do: { activity: 'recordVmSize', args: { vmId, ...resize.to }, summary: `Record the new size of ${hostname}` },
          undo: { activity: 'recordVmSize', args: { vmId, ...resize.from }, summary: `Record the old size of ${hostname}` },
        },
      ],
      recordPowerStateStep(vmId, hostname, 'stopped'),
    ),
  };
}

/** vm.stop before graceful stops existed (patch `graceful-stop`): a hard power-off. Kept for executions that started with it. */
export function legacyStopVmPlan({ nodeId, vmId, hostname }: VmPowerInput): OperationPlan {
  return {
    steps: [
      {
        name: 'stopVm',
        do: { activity: 'forceStopVm', args: { nodeId, vmId }, summary: `Power off ${hostname}` },
        undo: { activity: 'startVm', args: { nodeId, vmId }, summary: `Start ${hostname} again` },
      },
      recordPowerStateStep(vmId, hostname, 'stopped'),
    ],
  };
}
