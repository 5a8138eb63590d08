import type { MigrateVmInput, OperationPlan, PlannedStep, PlanStep } from '../../libs/contracts/src';
import { inOrder, startVmStep, stopVmStep } from './steps';

/** The migration's summary in the Temporal UI: both nodes, the mode, and whether it waits for a finalize. */
export function migrationSummary(input: MigrateVmInput): string {
  return `vm.migrate ${input.hostname}: ${input.nodeName} → ${input.targetNodeName} (${input.mode}${input.finalizeTimeoutSeconds !== null ? ', two-phase' : ''})`;
}

/**
 * vm.migrate, live: prepare the target → copy the VM while it runs → switch over → record the move → [wait for the
 * finalize] → clean up the source. Cold: stop the VM first and start it on the target before recording the move.
 *
 * Until the move is recorded (or, two-phase, until the finalize) every step is undone: the VM switches back to the
 * source, which kept its copy, and the target's reservation goes. From there on the VM stays on the target and
 * only the source's clean-up is left, retried until it is done.
 */
export function migrateVmPlan(input: MigrateVmInput): OperationPlan<PlanStep> {
  const { nodeId: source, targetNodeId: target, vmId, hostname, migrationId, nodeName, targetNodeName } = input;
  const cold = input.mode === 'cold' && input.running;
  const twoPhase = input.finalizeTimeoutSeconds !== null;
  const steps = inOrder<PlanStep>(
    cold && stopVmStep(source, vmId, hostname, input.stopTimeoutSeconds),
    {
      name: 'prepareTarget',
      do: {
        activity: 'prepareMigrationTarget',
        args: { nodeId: target, migrationId, vmId, sourceNodeId: source },
        summary: `Reserve room for ${hostname} on ${targetNodeName}`,
      },
      undo: {
        activity: 'abortMigration',
        args: { nodeId: target, migrationId },
        summary: `Give back what ${targetNodeName} reserved and copied for ${hostname}`,
      },
    },
    {
      name: 'transfer',
      do: {
        activity: 'transferVm',
        args: { nodeId: source, migrationId },
        summary:
          input.mode === 'live'
            ? `Copy ${hostname}'s disks and memory to ${targetNodeName} while it runs`
            : `Copy ${hostname}'s disks to ${targetNodeName}`,
      },
    },
    {
      name: 'switchOver',
      do: { activity: 'switchOverVm', args: { nodeId: source, migrationId }, summary: `Switch ${hostname} over to ${targetNodeName}` },
      undo: { activity: 'switchBackVm', args: { nodeId: source, migrationId }, summary: `Switch ${hostname} back to ${nodeName}` },
      movesVm: { from: source, to: target },
    },
    cold && { ...startVmStep(target, vmId, `${hostname} on ${targetNodeName}`), name: 'startOnTarget' },
    {
      name: 'recordMove',
      ...(twoPhase ? {} : { commit: true as const }),
      do: { activity: 'recordVmNode', args: { vmId, nodeId: target }, summary: `Record ${hostname} on ${targetNodeName}` },
      undo: { activity: 'recordVmNode', args: { vmId, nodeId: source }, summary: `Record ${hostname} on ${nodeName} again` },
    } satisfies PlannedStep,
    twoPhase && {
      name: 'awaitFinalize',
      commit: true,
      wait: {
        for: 'finalize',
        timeoutSeconds: input.finalizeTimeoutSeconds!,
        summary: `Wait for the migration of ${hostname} to be finalized (${nodeName} keeps its copy; a cancel moves it back)`,
      },
    },
    {
      name: 'cleanUpSource',
      do: {
        activity: 'cleanUpMigrationSource',
        args: { nodeId: source, migrationId },
        summary: `Free what ${nodeName} still holds for ${hostname}`,
      },
    },
  );
  return { steps };
}
