import type { CloneVmInput, CreateVmInput, NicSpec, OperationPlan, PlannedStep } from '../../libs/contracts/src';

/** A new VM's last steps, once its disks exist: its interface → define it with everything attached → [start] → record. */
function assembleVmSteps(vm: {
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
  return [
    ...(nic
      ? [
          {
            name: 'createInterface',
            do: {
              activity: 'createNic',
              args: { nodeId, ...nic },
              summary: `Create the ${nic.network} interface of ${hostname} (${nic.mac})`,
            },
            undo: { activity: 'deleteNic', args: { nodeId, nicId: nic.nicId }, summary: `Delete the interface of ${hostname}` },
          } as PlannedStep,
        ]
      : []),
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
    ...(vm.start
      ? [
          {
            name: 'startVm',
            do: { activity: 'startVm', args: { nodeId, vmId }, summary: `Start ${hostname}` },
            undo: { activity: 'forceStopVm', args: { nodeId, vmId }, summary: `Force-stop ${hostname}` },
          } as PlannedStep,
        ]
      : []),
    {
      name: 'recordVm',
      do: {
        activity: 'recordVmStatus',
        args: { vmId, powerState: vm.start ? 'running' : 'stopped' },
        summary: `Record ${hostname} as ${vm.start ? 'running' : 'stopped'} in the inventory`,
      },
    },
  ];
}

/**
 * vm.create: system disk from the template → data disks → network interface → define the VM with all of them
 * attached → start it (unless asked not to) → record it. Each creation is undone by a deletion.
 */
export function createVmPlan(input: CreateVmInput): OperationPlan {
  const { nodeId, vmId, systemDiskId, hostname } = input;
  const dataDisks = input.dataDisks ?? [];
  return {
    steps: [
      {
        name: 'createSystemDisk',
        do: {
          activity: 'createDiskFromTemplate',
          args: { nodeId, diskId: systemDiskId, templateId: input.templateId, sizeGb: input.systemDiskSizeGb },
          summary: `Create the ${input.systemDiskSizeGb} GB system disk of ${hostname} from its template`,
        },
        undo: { activity: 'deleteDisk', args: { nodeId, diskId: systemDiskId }, summary: `Delete the system disk of ${hostname}` },
      },
      ...dataDisks.map((d): PlannedStep => ({
        name: `createDataDisk${d.position}`,
        do: {
          activity: 'createBlankDisk',
          args: { nodeId, diskId: d.diskId, sizeGb: d.sizeGb },
          summary: `Create data disk ${d.position} (${d.sizeGb} GB) of ${hostname}`,
        },
        undo: { activity: 'deleteDisk', args: { nodeId, diskId: d.diskId }, summary: `Delete data disk ${d.position} of ${hostname}` },
      })),
      ...assembleVmSteps({
        nodeId,
        vmId,
        hostname,
        cpus: input.cpus,
        memoryMb: input.memoryMb,
        guestAgent: input.guestAgent ?? true,
        disks: [{ id: systemDiskId, position: 0 }, ...dataDisks.map((d) => ({ id: d.diskId, position: d.position }))],
        nic: input.nic ?? null,
        start: input.start,
        rootPasswordHash: input.rootPasswordHash,
      }),
    ],
    afterCompensation: { activity: 'discardVmRecord', args: { vmId }, summary: `Remove the record of ${hostname}` },
  };
}

/**
 * vm.clone (Gigas): capture each disk of the source into the image store (stopped, or its filesystems frozen) →
 * let the source go (the captures stand alone: it may take other operations from here) → a disk of the clone from
 * each capture, on the clone's node → its interface, definition, [start] and record, as vm.create → drop the
 * captures. Any failure before the captures are dropped removes the half-made clone and the captures.
 */
export function cloneVmPlan(input: CloneVmInput): OperationPlan {
  const { nodeId, vmId, hostname, source } = input;
  return {
    steps: [
      ...input.disks.map((d): PlannedStep => ({
        name: `captureDisk${d.position}`,
        do: {
          activity: 'captureImage',
          args: { nodeId: source.nodeId, imageId: d.imageId, diskId: d.sourceDiskId, fsfreeze: source.running },
          summary: `Capture disk ${d.position} of ${source.hostname}${source.running ? ', filesystems frozen' : ''}`,
        },
        undo: {
          activity: 'deleteImage',
          args: { nodeId: source.nodeId, imageId: d.imageId },
          summary: `Delete the capture of disk ${d.position}`,
        },
      })),
      {
        name: 'releaseSource',
        do: {
          activity: 'releaseVmLock',
          args: { vmId: source.vmId, operationId: input.operationId },
          summary: `Let ${source.hostname} go: its disks are captured`,
        },
      },
      ...input.disks.map((d): PlannedStep => ({
        name: `createDisk${d.position}`,
        do: {
          activity: 'createDiskFromTemplate',
          args: { nodeId, diskId: d.diskId, templateId: d.imageId, sizeGb: d.sizeGb },
          summary: `Create disk ${d.position} (${d.sizeGb} GB) of ${hostname} from the capture`,
        },
        undo: { activity: 'deleteDisk', args: { nodeId, diskId: d.diskId }, summary: `Delete disk ${d.position} of ${hostname}` },
      })),
      ...assembleVmSteps({
        nodeId,
        vmId,
        hostname,
        cpus: input.cpus,
        memoryMb: input.memoryMb,
        guestAgent: true,
        disks: input.disks.map((d) => ({ id: d.diskId, position: d.position })),
        nic: input.nic,
        start: input.start,
      }),
      // The clone is built: dropping the captures is cleanup, past which nothing is undone.
      ...input.disks.map((d, i): PlannedStep => ({
        name: `dropCapture${d.position}`,
        ...(i === 0 ? { commit: true as const } : {}),
        do: {
          activity: 'deleteImage',
          args: { nodeId: source.nodeId, imageId: d.imageId },
          summary: `Delete the capture of disk ${d.position} of ${source.hostname}`,
        },
      })),
    ],
    afterCompensation: { activity: 'discardVmRecord', args: { vmId }, summary: `Remove the record of ${hostname}` },
  };
}
