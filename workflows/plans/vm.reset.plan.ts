import type { OperationPlan, VmPowerInput } from '../../libs/contracts/src';

/**
 * vm.reset (admin, after a human fixed a stuck VM): read the VM on its node through the node's agent → the
 * inventory takes that state (or drops the VM if the node has none).
 */
export function resetVmPlan({ vmId, nodeId, hostname }: VmPowerInput): OperationPlan {
  return {
    steps: [
      { name: 'inspectVm', do: { activity: 'getVm', args: { nodeId, vmId }, summary: `Read ${hostname} as its node has it now` } },
      {
        name: 'syncVm',
        do: { activity: 'syncVmFromNode', args: { vmId }, observes: 'inspectVm', summary: `Record ${hostname} as its node has it` },
      },
    ],
  };
}

/** vm.reset as planned before node agents (patch `reset-reads-node-through-agent`): one step that read the node from the shared worker. */
export function legacyResetVmPlan({ vmId, nodeId, hostname }: VmPowerInput): OperationPlan {
  return {
    steps: [
      {
        name: 'resyncVm',
        do: { activity: 'resyncVmFromNode', args: { vmId, nodeId }, summary: `Record ${hostname} as its node has it now` },
      },
    ],
  };
}
