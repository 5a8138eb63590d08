import type { NicCreateInput, OperationPlan } from '../../libs/contracts/src';
import { nicNamed } from './steps';

/** nic.create (Gandi iface_create + iface_attach): a new interface → attached at its position → recorded there. */
export function createNicPlan({ nodeId, vmId, hostname, nic, position }: NicCreateInput): OperationPlan {
  return {
    steps: [
      {
        name: 'createNic',
        do: {
          activity: 'createNic',
          args: { nodeId, ...nic },
          summary: `Create ${nicNamed(nic.mac)} on network ${nic.network} for ${hostname}`,
        },
        undo: { activity: 'deleteNic', args: { nodeId, nicId: nic.nicId }, summary: `Delete ${nicNamed(nic.mac)}` },
      },
      {
        name: 'attachNic',
        do: {
          activity: 'attachNic',
          args: { nodeId, nicId: nic.nicId, vmId, position },
          summary: `Attach it to ${hostname} at ${position}`,
        },
        undo: { activity: 'detachNic', args: { nodeId, nicId: nic.nicId, vmId }, summary: `Detach ${nicNamed(nic.mac)}` },
      },
      {
        name: 'recordNic',
        do: {
          activity: 'recordNicSlot',
          args: { nicId: nic.nicId, vmId, position },
          summary: `Record ${nicNamed(nic.mac)} at ${position}`,
        },
      },
    ],
    afterCompensation: { activity: 'forgetNicRecord', args: { nicId: nic.nicId }, summary: `Drop the record of ${nicNamed(nic.mac)}` },
  };
}
