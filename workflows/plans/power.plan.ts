import type { OperationPlan, VmPowerInput } from '../../libs/contracts/src';

/** vm.start: power the VM on → record it running. Undo: power it off again. */
export function startVmPlan({ nodeId, vmId, hostname }: VmPowerInput): OperationPlan {
  return {
    steps: [
      {
        name: 'startVm',
        do: { activity: 'startVm', args: { nodeId, vmId }, summary: `Start ${hostname}` },
        undo: { activity: 'forceStopVm', args: { nodeId, vmId }, summary: `Force-stop ${hostname}` },
      },
      { name: 'recordVm', do: { activity: 'recordVmStatus', args: { vmId, powerState: 'running' }, summary: `Record ${hostname} as running` } },
    ],
  };
}

/** vm.stop (ElasticHosts "stop": a hard power-off) → record it stopped. Undo: start it again. */
export function stopVmPlan({ nodeId, vmId, hostname }: VmPowerInput): OperationPlan {
  return {
    steps: [
      {
        name: 'stopVm',
        do: { activity: 'forceStopVm', args: { nodeId, vmId }, summary: `Power off ${hostname}` },
        undo: { activity: 'startVm', args: { nodeId, vmId }, summary: `Start ${hostname} again` },
      },
      { name: 'recordVm', do: { activity: 'recordVmStatus', args: { vmId, powerState: 'stopped' }, summary: `Record ${hostname} as stopped` } },
    ],
  };
}
