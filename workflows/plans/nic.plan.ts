import type { NicChangeInput, NicCreateInput, OperationPlan, PlannedStep } from '../../libs/contracts/src';

/** An interface as summaries name it: its MAC, which is what a guest and a switch see. */
const named = (mac: string) => `interface ${mac}`;

/** The detach step nic.detach and nic.delete share; its undo attaches the interface where it was. */
function detachNicStep({ nodeId, vmId, hostname, nicId, mac }: NicChangeInput, attachedAt: number): PlannedStep {
  return {
    name: 'detachNic',
    do: { activity: 'detachNic', args: { nodeId, nicId, vmId }, summary: `Detach ${named(mac)} from ${hostname}` },
    undo: {
      activity: 'attachNic',
      args: { nodeId, nicId, vmId, position: attachedAt },
      summary: `Attach ${named(mac)} again at ${attachedAt}`,
    },
  };
}

/** nic.create (Gandi iface_create + iface_attach): a new interface → attached at its position → recorded there. */
export function createNicPlan({ nodeId, vmId, hostname, nic, position }: NicCreateInput): OperationPlan {
  return {
    steps: [
      {
        name: 'createNic',
        do: {
          activity: 'createNic',
          args: { nodeId, ...nic },
          summary: `Create ${named(nic.mac)} on network ${nic.network} for ${hostname}`,
        },
        undo: { activity: 'deleteNic', args: { nodeId, nicId: nic.nicId }, summary: `Delete ${named(nic.mac)}` },
      },
      {
        name: 'attachNic',
        do: {
          activity: 'attachNic',
          args: { nodeId, nicId: nic.nicId, vmId, position },
          summary: `Attach it to ${hostname} at ${position}`,
        },
        undo: { activity: 'detachNic', args: { nodeId, nicId: nic.nicId, vmId }, summary: `Detach ${named(nic.mac)}` },
      },
      {
        name: 'recordNic',
        do: { activity: 'recordNicSlot', args: { nicId: nic.nicId, vmId, position }, summary: `Record ${named(nic.mac)} at ${position}` },
      },
    ],
    afterCompensation: { activity: 'forgetNicRecord', args: { nicId: nic.nicId }, summary: `Drop the record of ${named(nic.mac)}` },
  };
}

/**
 * nic.attach (Gandi iface_attach): a detached interface of the VM's node → its position → recorded there. One no
 * VM owned (`claimed`) is nobody's again if the attach is undone.
 */
export function attachNicPlan({ nodeId, vmId, hostname, nicId, mac, position, claimed }: NicChangeInput): OperationPlan {
  const at = position ?? 0;
  return {
    steps: [
      {
        name: 'attachNic',
        do: { activity: 'attachNic', args: { nodeId, nicId, vmId, position: at }, summary: `Attach ${named(mac)} to ${hostname} at ${at}` },
        undo: { activity: 'detachNic', args: { nodeId, nicId, vmId }, summary: `Detach ${named(mac)}` },
      },
      {
        name: 'recordNic',
        do: { activity: 'recordNicSlot', args: { nicId, vmId, position: at }, summary: `Record ${named(mac)} at ${at}` },
      },
    ],
    ...(claimed
      ? {
          afterCompensation: {
            activity: 'recordNicSlot',
            args: { nicId, vmId: null, position: null },
            summary: `Record ${named(mac)} as no VM's again`,
          },
        }
      : {}),
  };
}

/** nic.detach (Gandi iface_detach): the interface stays the VM's, detached; a VM may end with none. */
export function detachNicPlan(input: NicChangeInput): OperationPlan {
  const { vmId, nicId, mac, attachedAt } = input;
  return {
    steps: [
      detachNicStep(input, attachedAt ?? 0),
      {
        name: 'recordNic',
        do: { activity: 'recordNicSlot', args: { nicId, vmId, position: null }, summary: `Record ${named(mac)} detached` },
      },
    ],
  };
}

/** nic.delete: [detach] → delete it on the node (its MAC is gone for good: no return) → drop its record. */
export function deleteNicPlan(input: NicChangeInput): OperationPlan {
  const { nodeId, hostname, nicId, mac, attachedAt } = input;
  return {
    steps: [
      ...(attachedAt !== null ? [detachNicStep(input, attachedAt)] : []),
      {
        name: 'deleteNic',
        commit: true,
        do: { activity: 'deleteNic', args: { nodeId, nicId }, summary: `Delete ${named(mac)} of ${hostname}` },
      },
      { name: 'forgetNic', do: { activity: 'forgetNicRecord', args: { nicId }, summary: `Drop the record of ${named(mac)}` } },
    ],
  };
}
