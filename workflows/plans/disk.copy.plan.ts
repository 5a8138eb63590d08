import type { OperationPlan, PlannedStep, VmOperationInput } from '../../libs/contracts/src';
import { inOrder, short } from './steps';

/** disk.copy: what the API chose before the workflow starts: the copy's id, size and place, the snapshot's id. */
export interface CopyDiskInput extends VmOperationInput {
  source: { diskId: string; sizeGb: number };
  /** The new disk: `position` null leaves it detached (still the VM's). */
  copy: { diskId: string; sizeGb: number; position: number | null };
  /** The point-in-time snapshot the copy is made from, dropped once the copy exists. */
  snapshotId: string;
  /** The VM runs and its filesystems are frozen while the snapshot is taken (a guest agent is needed). */
  fsfreeze: boolean;
}

/**
 * disk.copy (Gandi disk.create_from a source disk): a snapshot of the source (its filesystems frozen, if asked) →
 * a new disk from it → the snapshot dropped → [the copy attached at its position] → recorded there. The source is
 * never written to. Every step until the record is undone: the copy deleted, the snapshot deleted.
 */
export function copyDiskPlan({ nodeId, vmId, hostname, source, copy, snapshotId, fsfreeze }: CopyDiskInput): OperationPlan {
  const from = `disk ${short(source.diskId)}`;
  const to = `disk ${short(copy.diskId)}`;
  return {
    steps: inOrder<PlannedStep>(
      {
        name: 'snapshotSource',
        do: {
          activity: 'createSnapshot',
          args: { nodeId, snapshotId, diskId: source.diskId, name: `copy-${short(snapshotId)}`, fsfreeze },
          summary: `Snapshot ${from} of ${hostname} to copy from${fsfreeze ? ', filesystems frozen' : ''}`,
        },
        undo: { activity: 'deleteSnapshot', args: { nodeId, snapshotId }, summary: `Delete the snapshot of ${from}` },
      },
      {
        name: 'createCopy',
        do: {
          activity: 'createDiskFromSnapshot',
          args: { nodeId, diskId: copy.diskId, snapshotId, sizeGb: copy.sizeGb },
          summary: `Create ${to} (${copy.sizeGb} GB) as a copy of ${from}`,
        },
        undo: { activity: 'deleteDisk', args: { nodeId, diskId: copy.diskId }, summary: `Delete ${to}` },
      },
      {
        name: 'dropSnapshot',
        do: { activity: 'deleteSnapshot', args: { nodeId, snapshotId }, summary: `Delete the snapshot of ${from}: the copy stands alone` },
      },
      copy.position !== null && {
        name: 'attachCopy',
        do: {
          activity: 'attachDisk',
          args: { nodeId, diskId: copy.diskId, vmId, position: copy.position },
          summary: `Attach ${to} to ${hostname} at ${copy.position}`,
        },
        undo: { activity: 'detachDisk', args: { nodeId, diskId: copy.diskId, vmId }, summary: `Detach ${to}` },
      },
      {
        name: 'recordCopy',
        do: {
          activity: 'recordDiskSlot',
          args: { diskId: copy.diskId, vmId, position: copy.position, sizeGb: copy.sizeGb },
          summary: copy.position === null ? `Record ${to}, detached` : `Record ${to} at ${copy.position}`,
        },
      },
    ),
    // The API recorded the copy detached up front, to hold its storage: undone, the record goes.
    afterCompensation: { activity: 'forgetDiskRecord', args: { diskId: copy.diskId }, summary: `Drop the record of ${to}` },
  };
}
