import type { CloneVmInput, OperationPlan, PlannedStep } from '../../libs/contracts/src';
import { assembleVmSteps } from './steps';

/** The summary of the clone's workflow in the Temporal UI: both VMs. */
export const cloneSummary = (input: CloneVmInput): string => `vm.clone ${input.source.hostname} → ${input.hostname}`;

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
