import type { OperationPlan, VmPowerInput } from '../../libs/contracts/src';
import { recordPowerStateStep } from './steps';

/**
 * vm.shutdown (ElasticHosts): the ACPI power button, and nothing stronger — a guest that ignores it for
 * `timeoutSeconds` fails the operation (GuestDidNotStop) and keeps running → record it stopped.
 */
export function shutdownVmPlan({ nodeId, vmId, hostname, timeoutSeconds = 180 }: VmPowerInput): OperationPlan {
  return {
    steps: [
      {
        name: 'shutdownVm',
        do: {
          activity: 'stopVmWithTimeout',
          args: { nodeId, vmId, timeoutSeconds, onTimeout: 'fail' },
          summary: `ACPI shutdown of ${hostname}, waiting up to ${timeoutSeconds} s`,
        },
        undo: { activity: 'startVm', args: { nodeId, vmId }, summary: `Start ${hostname} again` },
      },
      recordPowerStateStep(vmId, hostname, 'stopped'),
    ],
  };
}
