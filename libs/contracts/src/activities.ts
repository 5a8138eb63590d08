import type { OperationProgress, OperationStep } from './operations';
import type { VmPowerState } from './workflows';

/** What every step activity resolves to: the attempt that succeeded (1 = first try). */
export interface StepReport {
  attempt: number;
}

/** Details an activity attaches to its failure, so the workflow can report the attempts made. */
export interface StepFailureDetails {
  attempt: number;
}

/**
 * Activities that touch the inventory in PostgreSQL. They run on the shared task queue.
 * Each is idempotent: running it twice leaves the same rows.
 */
export interface InventoryActivities {
  markOperationRunning(args: { operationId: string }): Promise<StepReport>;
  /** The VM is in this power state on its node: the inventory follows. */
  recordVmStatus(args: { vmId: string; powerState: VmPowerState }): Promise<StepReport>;
  /** The create was undone: the VM's row and its disk rows go. */
  discardVmRecord(args: { vmId: string }): Promise<StepReport>;
  /** Final word of an operation: status, steps and error as the workflow saw them; releases the VM. */
  finishOperation(args: { operationId: string; vmId: string | null; progress: OperationProgress }): Promise<StepReport>;
}

/** Activities that call the hypervisor driver of a node. Each is idempotent (check, then act). */
export interface DriverActivities {
  createDiskFromTemplate(args: { nodeId: string; diskId: string; templateId: string; sizeGb: number }): Promise<StepReport>;
  deleteDisk(args: { nodeId: string; diskId: string }): Promise<StepReport>;
  defineVm(args: {
    nodeId: string;
    vmId: string;
    hostname: string;
    cpus: number;
    memoryMb: number;
    disks: { diskId: string; position: number }[];
  }): Promise<StepReport>;
  undefineVm(args: { nodeId: string; vmId: string }): Promise<StepReport>;
  startVm(args: { nodeId: string; vmId: string }): Promise<StepReport>;
  forceStopVm(args: { nodeId: string; vmId: string }): Promise<StepReport>;
}

/** Activities that compare a node with the inventory and make the inventory follow the node. */
export interface ReconcileActivities {
  /**
   * After a human fixed a stuck VM: the inventory takes the VM's state from its node — its power state,
   * or, if the node has no such VM, the VM's record and disk rows go.
   */
  resyncVmFromNode(args: { vmId: string; nodeId: string }): Promise<StepReport>;
}

export type OperationActivities = InventoryActivities & DriverActivities & ReconcileActivities;
export type ActivityName = keyof OperationActivities;

/** One activity invocation written as data, so a plan can be shown (dry run) before it is run. */
export type ActivityCall = {
  [K in ActivityName]: { activity: K; args: Parameters<OperationActivities[K]>[0]; summary: string };
}[ActivityName];

export interface PlannedStep {
  /** camelCase step name, as it appears in the operation's steps. */
  name: string;
  do: ActivityCall;
  /** Undoes `do`; registered as soon as `do` succeeds and run, newest first, if a later step fails. */
  undo?: ActivityCall;
}

export interface OperationPlan {
  steps: PlannedStep[];
  /** Run after every undo succeeded (e.g. drop the record of what never came to exist). */
  afterCompensation?: ActivityCall;
}

/** The plan's steps as an operation reports them before any has run. */
export function pendingSteps(plan: OperationPlan): OperationStep[] {
  return plan.steps.map((s) => ({ name: s.name, status: 'pending', startedAt: null, finishedAt: null, attempts: 0, error: null }));
}
