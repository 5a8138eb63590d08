import type { OperationPlan, PlannedStep, VmPowerInput } from '../../libs/contracts/src';
import { startVmStep, stopVmStep } from './steps';

const record = (vmId: string, hostname: string, powerState: 'running' | 'stopped'): PlannedStep => ({
  name: 'recordVm',
  do: { activity: 'recordVmStatus', args: { vmId, powerState }, summary: `Record ${hostname} as ${powerState}` },
});

/** vm.start: power the VM on (booting once from an ISO if asked) → record it running. Undo: power it off again. */
export function startVmPlan({ nodeId, vmId, hostname, bootIso }: VmPowerInput): OperationPlan {
  const start = startVmStep(nodeId, vmId, hostname);
  if (bootIso)
    start.do = { activity: 'startVm', args: { nodeId, vmId, bootIso }, summary: `Start ${hostname}, booting once from ${bootIso}` };
  return { steps: [start, record(vmId, hostname, 'running')] };
}

/**
 * vm.stop: ACPI shutdown, then a forced power-off if the guest has not stopped within the timeout (`force`:
 * the power-off at once) → record it stopped. Undo: start it again.
 */
export function stopVmPlan({ nodeId, vmId, hostname, timeoutSeconds = 180, force = false, resize }: VmPowerInput): OperationPlan {
  return {
    steps: [
      stopVmStep(nodeId, vmId, hostname, force ? 0 : timeoutSeconds),
      ...(resize
        ? [
            {
              name: 'applyPendingSize',
              do: {
                activity: 'resizeVm',
                args: { nodeId, vmId, ...resize.to },
                summary: `Give ${hostname} the ${resize.to.cpus} vCPU and ${resize.to.memoryMb} MB waiting for this stop`,
              },
              undo: { activity: 'resizeVm', args: { nodeId, vmId, ...resize.from }, summary: `Give ${hostname} back its size` },
            } as PlannedStep,
            {
              name: 'recordSize',
              do: { activity: 'recordVmSize', args: { vmId, ...resize.to }, summary: `Record the new size of ${hostname}` },
              undo: { activity: 'recordVmSize', args: { vmId, ...resize.from }, summary: `Record the old size of ${hostname}` },
            } as PlannedStep,
          ]
        : []),
      record(vmId, hostname, 'stopped'),
    ],
  };
}

/** vm.stop before graceful stops existed: a hard power-off. Kept for executions that started with it. */
export function legacyStopVmPlan({ nodeId, vmId, hostname }: VmPowerInput): OperationPlan {
  return {
    steps: [
      {
        name: 'stopVm',
        do: { activity: 'forceStopVm', args: { nodeId, vmId }, summary: `Power off ${hostname}` },
        undo: { activity: 'startVm', args: { nodeId, vmId }, summary: `Start ${hostname} again` },
      },
      record(vmId, hostname, 'stopped'),
    ],
  };
}

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
      record(vmId, hostname, 'stopped'),
    ],
  };
}

/**
 * vm.reboot (Gandi, Erigones): ACPI shutdown, powered off if the guest has not stopped within the timeout
 * (`force`: at once), then started again. Undo: a VM left off by a failed start is started again.
 */
export function rebootVmPlan({ nodeId, vmId, hostname, timeoutSeconds = 180, force = false }: VmPowerInput): OperationPlan {
  return { steps: [stopVmStep(nodeId, vmId, hostname, force ? 0 : timeoutSeconds), startVmStep(nodeId, vmId, hostname)] };
}

/** vm.hard_reset (ElasticHosts reset): the reset button. Nothing to undo. */
export function hardResetVmPlan({ nodeId, vmId, hostname }: VmPowerInput): OperationPlan {
  return { steps: [{ name: 'resetVm', do: { activity: 'resetVm', args: { nodeId, vmId }, summary: `Hard-reset ${hostname}` } }] };
}

/** vm.freeze / vm.unfreeze: the node holds the VM (it refuses to start) → the inventory records it. */
export function freezeVmPlan({ nodeId, vmId, hostname }: VmPowerInput, frozen: boolean): OperationPlan {
  const freeze = { activity: 'freezeVm', args: { nodeId, vmId }, summary: `Freeze ${hostname}` } as const;
  const unfreeze = { activity: 'unfreezeVm', args: { nodeId, vmId }, summary: `Unfreeze ${hostname}` } as const;
  return {
    steps: [
      { name: frozen ? 'freezeVm' : 'unfreezeVm', do: frozen ? freeze : unfreeze, undo: frozen ? unfreeze : freeze },
      {
        name: 'recordFrozen',
        do: { activity: 'recordVmFrozen', args: { vmId, frozen }, summary: `Record ${hostname} as ${frozen ? 'frozen' : 'not frozen'}` },
      },
    ],
  };
}
