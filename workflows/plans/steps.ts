import type { NicChangeInput, NicSpec, PlannedStep, VmPowerInput } from '../../libs/contracts/src';

/**
 * The steps several plans share, and the helpers that put a plan together. A plan file (`<type>.plan.ts`) builds
 * its own steps and takes the common ones from here.
 */

/** A plan's steps in order: each part is a step, a list of steps, or nothing (`running && stopVmStep(...)`). */
export function inOrder<S>(...parts: (S | readonly S[] | false | null | undefined)[]): S[] {
  return parts.flatMap((part) => (part === false || part === null || part === undefined ? [] : Array.isArray(part) ? part : [part as S]));
}

/** An id as summaries show it: the first 8 characters, enough to tell disks apart in the Temporal UI. */
export const short = (id: string): string => id.slice(0, 8);

/**
 * stopVm: ACPI shutdown, powered off after `timeoutSeconds` (0: at once); undone by starting the VM again.
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

/** The inventory records the VM's power state (the last step of the power operations). */
export function recordPowerStateStep(vmId: string, hostname: string, powerState: 'running' | 'stopped'): PlannedStep {
  return {
    name: 'recordVm',
    do: { activity: 'recordVmStatus', args: { vmId, powerState }, summary: `Record ${hostname} as ${powerState}` },
  };
}

/** vm.freeze / vm.unfreeze: the node holds the VM (it refuses to start) or lets it go → the inventory records it. */
export function freezeSteps({ nodeId, vmId, hostname }: VmPowerInput, frozen: boolean): PlannedStep[] {
  const freeze = { activity: 'freezeVm', args: { nodeId, vmId }, summary: `Freeze ${hostname}` } as const;
  const unfreeze = { activity: 'unfreezeVm', args: { nodeId, vmId }, summary: `Unfreeze ${hostname}` } as const;
  return [
    { name: frozen ? 'freezeVm' : 'unfreezeVm', do: frozen ? freeze : unfreeze, undo: frozen ? unfreeze : freeze },
    {
      name: 'recordFrozen',
      do: { activity: 'recordVmFrozen', args: { vmId, frozen }, summary: `Record ${hostname} as ${frozen ? 'frozen' : 'not frozen'}` },
    },
  ];
}

/** detachDisk, undone by attaching the disk where it was. */
export function detachDiskStep(
  { nodeId, vmId, hostname }: { nodeId: string; vmId: string; hostname: string },
  diskId: string,
  attachedAt: number,
  name = 'detachDisk',
): PlannedStep {
  return {
    name,
    do: { activity: 'detachDisk', args: { nodeId, diskId, vmId }, summary: `Detach disk ${short(diskId)} from ${hostname}` },
    undo: { activity: 'attachDisk', args: { nodeId, diskId, vmId, position: attachedAt }, summary: `Attach disk ${short(diskId)} again` },
  };
}

/** An interface as summaries name it: its MAC, which is what a guest and a switch see. */
export const nicNamed = (mac: string): string => `interface ${mac}`;

/** The detach step nic.detach and nic.delete share; its undo attaches the interface where it was. */
export function detachNicStep({ nodeId, vmId, hostname, nicId, mac }: NicChangeInput, attachedAt: number): PlannedStep {
  return {
    name: 'detachNic',
    do: { activity: 'detachNic', args: { nodeId, nicId, vmId }, summary: `Detach ${nicNamed(mac)} from ${hostname}` },
    undo: {
      activity: 'attachNic',
      args: { nodeId, nicId, vmId, position: attachedAt },
      summary: `Attach ${nicNamed(mac)} again at ${attachedAt}`,
    },
  };
}

/**
 * A new VM's last steps (vm.create, vm.clone), once its disks exist: its interface → define it with everything
 * attached → [start] → record.
 */
export function assembleVmSteps(vm: {
  nodeId: string;
  vmId: string;
  hostname: string;
  cpus: number;
  memoryMb: number;
  guestAgent: boolean;
  disks: { id: string; position: number }[];
  nic: NicSpec | null;
  start: boolean;
  rootPasswordHash?: string;
}): PlannedStep[] {
  const { nodeId, vmId, hostname, nic } = vm;
  return inOrder<PlannedStep>(
    nic && {
      name: 'createInterface',
      do: {
        activity: 'createNic',
        args: { nodeId, ...nic },
        summary: `Create the ${nic.network} interface of ${hostname} (${nic.mac})`,
      },
      undo: { activity: 'deleteNic', args: { nodeId, nicId: nic.nicId }, summary: `Delete the interface of ${hostname}` },
    },
    {
      name: 'defineVm',
      do: {
        activity: 'defineVm',
        args: {
          nodeId,
          vmId,
          hostname,
          cpus: vm.cpus,
          memoryMb: vm.memoryMb,
          guestAgent: vm.guestAgent,
          disks: vm.disks,
          nics: nic ? [{ id: nic.nicId, position: 0 }] : [],
          ...(vm.rootPasswordHash ? { rootPasswordHash: vm.rootPasswordHash } : {}),
        },
        summary: `Define ${hostname} (${vm.cpus} vCPU, ${vm.memoryMb} MB) with its disks`,
      },
      undo: { activity: 'undefineVm', args: { nodeId, vmId }, summary: `Undefine ${hostname}` },
    },
    vm.start && startVmStep(nodeId, vmId, hostname),
    {
      name: 'recordVm',
      do: {
        activity: 'recordVmStatus',
        args: { vmId, powerState: vm.start ? 'running' : 'stopped' },
        summary: `Record ${hostname} as ${vm.start ? 'running' : 'stopped'} in the inventory`,
      },
    },
  );
}
