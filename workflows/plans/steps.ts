import type { PlannedStep } from '../../libs/contracts/src';

/**
 * Power steps several plans share. stopVm: ACPI shutdown, powered off after `timeoutSeconds` (0: at once);
 * undone by starting the VM again.
 */
export function stopVmStep(nodeId: string, vmId: string, hostname: string, timeoutSeconds: number): PlannedStep {
  return {
    name: 'stopVm',
    do: {
      activity: 'stopVmWithTimeout',
      args: { nodeId, vmId, timeoutSeconds, onTimeout: 'force' },
      summary: timeoutSeconds ? `Shut ${hostname} down (power off after ${timeoutSeconds} s)` : `Power ${hostname} off`,
    },
    undo: { activity: 'startVm', args: { nodeId, vmId }, summary: `Start ${hostname} again` },
  };
}

/** startVm, undone by a forced power-off. */
export function startVmStep(nodeId: string, vmId: string, hostname: string): PlannedStep {
  return {
    name: 'startVm',
    do: { activity: 'startVm', args: { nodeId, vmId }, summary: `Start ${hostname}` },
    undo: { activity: 'forceStopVm', args: { nodeId, vmId }, summary: `Force-stop ${hostname}` },
  };
}
