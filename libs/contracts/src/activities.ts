import type { OperationProgress, OperationStep, WaitReason } from './operations';
import {
  DRIVER_METHODS,
  type DiskInfo,
  type DriverMethod,
  type MigrationInfo,
  type NodeAudit,
  type SnapshotInfo,
  type VmDefinition,
  type VmInfo,
  type VmUsage,
} from '../../driver/src/driver';
import type { DrainMigrationLaunch, ScheduledLaunch, SnapshotCreateInput, SnapshotDeleteInput, VmPowerState } from './workflows';

/**
 * What every step activity resolves to: the attempt that succeeded and what it read, if anything. The attempt is
 * left out when it is the first (each report is recorded in the workflow's history; most steps succeed at once).
 */
export interface StepReport<R = unknown> {
  attempt?: number;
  result?: R;
}

/** A long step's progress, as it heartbeats it (a bare number is a percentage). */
export interface StepProgress {
  percent: number;
  bytesTransferred?: number;
  bytesTotal?: number;
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
  /**
   * The workflow has started the operation. Resolves to false when the operation was settled before its
   * workflow ran (cancelled, or abandoned as never started): the workflow then does nothing.
   */
  markOperationRunning(args: { operationId: string }): Promise<StepReport<boolean>>;
  /** The VM is in this power state on its node: the inventory follows. */
  recordVmStatus(args: { vmId: string; powerState: VmPowerState }): Promise<StepReport>;
  /** The create was undone: the VM's row and its disk rows go. */
  discardVmRecord(args: { vmId: string }): Promise<StepReport>;
  /**
   * After a human fixed a stuck VM: the inventory takes the VM as its node reported it (`observed`, the result
   * of a getVm step): power state, frozen, size, and where each of its disks and interfaces is attached; when the
   * node has no such VM, the VM's record and disk rows go. What it cannot take over (a disk or interface the
   * node attaches that the inventory has no record of) fails the step, naming each, after the rest is recorded.
   */
  syncVmFromNode(args: { vmId: string; observed?: VmInfo | null }): Promise<StepReport>;
  /**
   * The single step of vm.reset before node agents existed. Kept so that such a reset, if one still runs,
   * fails with a clear message rather than wait for a worker that no longer has a driver.
   */
  resyncVmFromNode(args: { vmId: string; nodeId: string }): Promise<StepReport>;
  recordVmFrozen(args: { vmId: string; frozen: boolean }): Promise<StepReport>;
  /** The snapshot exists on the node: its record (written pending by the API) becomes ok. */
  markSnapshotsOk(args: { snapshotIds: string[] }): Promise<StepReport>;
  /** The template's image was captured, or kept by a deletion that failed: its record (`creating`, `deleting`) is `ready`. */
  markTemplateReady(args: { templateId: string }): Promise<StepReport>;
  /** The template's image is gone (or never came to be): its record goes. */
  forgetTemplate(args: { templateId: string }): Promise<StepReport>;
  /** The snapshots are gone from the node: their records go. */
  forgetSnapshots(args: { snapshotIds: string[] }): Promise<StepReport>;
  /**
   * The VM's snapshot records follow what the node holds (`observed`, a listSnapshots result): records of
   * snapshots the node lacks go, snapshots of the VM's disks that the node has and the inventory lacks are added.
   */
  syncSnapshotRecords(args: { vmId: string; observed?: SnapshotInfo[] | null }): Promise<StepReport>;
  /** `newDiskId` takes `oldDiskId`'s place at `position` in the inventory; the old disk stays the VM's, detached. */
  replaceDiskRecord(args: { vmId: string; oldDiskId: string; newDiskId: string; position: number; sizeGb: number }): Promise<StepReport>;
  /** Undoes replaceDiskRecord: the new disk's record goes, the old disk is attached again at `position`. */
  restoreDiskRecord(args: { vmId: string; oldDiskId: string; newDiskId: string; position: number }): Promise<StepReport>;
  /** The disk is gone from the node: its record and its snapshots' records go. */
  forgetDiskRecord(args: { diskId: string }): Promise<StepReport>;
  /** Where a VM's disk is attached now (null: detached, still the VM's), and its size. */
  recordDiskSlot(args: { diskId: string; vmId: string; position: number | null; sizeGb: number }): Promise<StepReport>;
  /** Where a VM's interface is attached now (null: detached, still the VM's; vmId null: nobody's). */
  recordNicSlot(args: { nicId: string; vmId: string | null; position: number | null }): Promise<StepReport>;
  /** The interface is gone from the node: its record goes. */
  forgetNicRecord(args: { nicId: string }): Promise<StepReport>;
  recordVmSize(args: { vmId: string; cpus: number; memoryMb: number }): Promise<StepReport>;
  /** The VM runs on `nodeId` now (a migration's switch-over, or its undo): the VM and its disks and interfaces move there. */
  recordVmNode(args: { vmId: string; nodeId: string }): Promise<StepReport>;
  recordVmTemplate(args: { vmId: string; templateId: string | null }): Promise<StepReport>;
  /**
   * The VM is gone from its node: its record goes, with the records of the disks and interfaces deleted with
   * it; `keepDiskIds` stay, detached and no longer any VM's.
   */
  forgetVmRecord(args: { vmId: string; keepDiskIds: string[] }): Promise<StepReport>;
  /** The operation is done with this VM before its end (a clone's source, once captured): another may take it. */
  releaseVmLock(args: { vmId: string; operationId: string }): Promise<StepReport>;
  /**
   * Final word of an operation: status, steps and error as the workflow saw them; releases the VM, and any other
   * VM it still holds (a clone's source).
   */
  finishOperation(args: { operationId: string; vmId: string | null; progress: OperationProgress }): Promise<StepReport>;
}

type OnNode<A = object> = { nodeId: string } & A;

/**
 * Activities that call the hypervisor driver. Each runs on the task queue of the node named by `nodeId` (see
 * nodeTaskQueue), served by that node's agent, and is idempotent (check, then act). Names follow the driver's.
 */
export interface DriverActivities {
  defineVm(args: OnNode<VmDefinition>): Promise<StepReport>;
  undefineVm(args: OnNode<{ vmId: string }>): Promise<StepReport>;
  getVm(args: OnNode<{ vmId: string }>): Promise<StepReport<VmInfo | null>>;
  resizeVm(args: OnNode<{ vmId: string; cpus: number; memoryMb: number }>): Promise<StepReport>;
  startVm(args: OnNode<{ vmId: string; bootIso?: string }>): Promise<StepReport>;
  shutdownVm(args: OnNode<{ vmId: string }>): Promise<StepReport>;
  stopVm(args: OnNode<{ vmId: string; timeoutSeconds: number }>): Promise<StepReport<'stopped' | 'timed_out'>>;
  forceStopVm(args: OnNode<{ vmId: string }>): Promise<StepReport>;
  /**
   * ACPI shutdown, then up to `timeoutSeconds` for the guest (0: none); after that `force` pulls the plug,
   * `fail` gives up (GuestDidNotStop, permanent). Resolves to how the VM went off.
   */
  stopVmWithTimeout(
    args: OnNode<{ vmId: string; timeoutSeconds: number; onTimeout: 'force' | 'fail' }>,
  ): Promise<StepReport<'graceful' | 'forced'>>;
  resetVm(args: OnNode<{ vmId: string }>): Promise<StepReport>;
  freezeVm(args: OnNode<{ vmId: string }>): Promise<StepReport>;
  unfreezeVm(args: OnNode<{ vmId: string }>): Promise<StepReport>;
  consoleUrl(args: OnNode<{ vmId: string }>): Promise<StepReport<string>>;
  usage(args: OnNode<{ vmId: string }>): Promise<StepReport<VmUsage>>;
  createBlankDisk(args: OnNode<{ diskId: string; sizeGb: number }>): Promise<StepReport>;
  createDiskFromTemplate(args: OnNode<{ diskId: string; templateId: string; sizeGb: number }>): Promise<StepReport>;
  createDiskFromSnapshot(args: OnNode<{ diskId: string; snapshotId: string; sizeGb?: number }>): Promise<StepReport>;
  captureImage(args: OnNode<{ imageId: string; diskId: string; fsfreeze: boolean }>): Promise<StepReport>;
  deleteImage(args: OnNode<{ imageId: string }>): Promise<StepReport>;
  resizeDisk(args: OnNode<{ diskId: string; sizeGb: number }>): Promise<StepReport>;
  deleteDisk(args: OnNode<{ diskId: string }>): Promise<StepReport>;
  getDisk(args: OnNode<{ diskId: string }>): Promise<StepReport<DiskInfo | null>>;
  attachDisk(args: OnNode<{ diskId: string; vmId: string; position: number }>): Promise<StepReport>;
  detachDisk(args: OnNode<{ diskId: string; vmId: string }>): Promise<StepReport>;
  createSnapshot(args: OnNode<{ snapshotId: string; diskId: string; name: string; fsfreeze: boolean }>): Promise<StepReport>;
  listSnapshots(args: OnNode<{ diskId?: string }>): Promise<StepReport<SnapshotInfo[]>>;
  deleteSnapshot(args: OnNode<{ snapshotId: string }>): Promise<StepReport>;
  rollbackSnapshot(args: OnNode<{ snapshotId: string; targetDiskId?: string; discardSnapshots: boolean }>): Promise<StepReport>;
  createNic(args: OnNode<{ nicId: string; mac: string; network: string }>): Promise<StepReport>;
  attachNic(args: OnNode<{ nicId: string; vmId: string; position: number }>): Promise<StepReport>;
  detachNic(args: OnNode<{ nicId: string; vmId: string }>): Promise<StepReport>;
  deleteNic(args: OnNode<{ nicId: string }>): Promise<StepReport>;
  /** Runs on the target node; the other migration steps run on the source (abortMigration on either). */
  prepareMigrationTarget(args: OnNode<{ migrationId: string; vmId: string; sourceNodeId: string }>): Promise<StepReport>;
  transferVm(args: OnNode<{ migrationId: string }>): Promise<StepReport>;
  switchOverVm(args: OnNode<{ migrationId: string }>): Promise<StepReport>;
  switchBackVm(args: OnNode<{ migrationId: string }>): Promise<StepReport>;
  abortMigration(args: OnNode<{ migrationId: string }>): Promise<StepReport>;
  cleanUpMigrationSource(args: OnNode<{ migrationId: string }>): Promise<StepReport>;
  getMigration(args: OnNode<{ migrationId: string }>): Promise<StepReport<MigrationInfo | null>>;
  auditNode(args: OnNode): Promise<StepReport<NodeAudit>>;
}

/** Driver methods whose activity is named otherwise (the node's audit is a read of the whole node). */
const ACTIVITY_OF_METHOD = { audit: 'auditNode' } as const satisfies Partial<Record<DriverMethod, keyof DriverActivities>>;
/** Activities that are more than one driver call (an ACPI stop with its timeout, then a forced one). */
const COMPOUND_DRIVER_ACTIVITIES = ['stopVmWithTimeout'] as const;

type RenamedMethod = keyof typeof ACTIVITY_OF_METHOD;
type DerivedActivity =
  Exclude<DriverMethod, RenamedMethod> | (typeof ACTIVITY_OF_METHOD)[RenamedMethod] | (typeof COMPOUND_DRIVER_ACTIVITIES)[number];
// The compiler holds the list below to DriverActivities: a method or an activity added to one side only fails here.
const SAME_NAMES: [DerivedActivity] extends [keyof DriverActivities]
  ? [keyof DriverActivities] extends [DerivedActivity]
    ? true
    : never
  : never = true;

/** The activities a node's agent serves, in a stable order: one per driver method (DRIVER_METHODS), and the compound ones. */
const DRIVER_ACTIVITY_NAMES: readonly (keyof DriverActivities)[] = SAME_NAMES && [
  ...DRIVER_METHODS.map((method): keyof DriverActivities =>
    method in ACTIVITY_OF_METHOD ? ACTIVITY_OF_METHOD[method as RenamedMethod] : (method as Exclude<DriverMethod, RenamedMethod>),
  ),
  ...COMPOUND_DRIVER_ACTIVITIES,
];
const DRIVER_ACTIVITY_SET = new Set<string>(DRIVER_ACTIVITY_NAMES);

/**
 * Driver calls that may take minutes: waiting for a guest to power off, copying a VM or a disk. They run on the
 * node's second task queue (nodeLongTaskQueue) in slots of their own, so that a node stopping a hundred VMs at
 * once still starts, attaches and reads at once.
 */
const LONG_DRIVER_ACTIVITY_SET: Partial<Record<keyof DriverActivities, true>> = {
  stopVm: true,
  stopVmWithTimeout: true,
  transferVm: true,
  createDiskFromTemplate: true,
  createDiskFromSnapshot: true,
  captureImage: true,
};

export function isLongDriverActivity(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(LONG_DRIVER_ACTIVITY_SET, name);
}

/**
 * Whether this call may take minutes: a long activity, unless its arguments say it will not wait (a stop with no
 * time for the guest is a power-off at once). A forced stop must not queue behind a node's graceful ones: with every
 * long slot taken by guests that take minutes to power off, it would wait for them.
 */
export function isLongDriverCall(call: { activity: string; args: unknown }): boolean {
  if (!isLongDriverActivity(call.activity)) return false;
  const { timeoutSeconds } = (call.args ?? {}) as { timeoutSeconds?: number };
  return !((call.activity === 'stopVm' || call.activity === 'stopVmWithTimeout') && timeoutSeconds === 0);
}

/** Whether an activity runs on a node's agent (true) or on the shared worker. */
export function isDriverActivity(name: string): name is keyof DriverActivities {
  return DRIVER_ACTIVITY_SET.has(name);
}

export type OperationActivities = InventoryActivities & DriverActivities;
export type ActivityName = keyof OperationActivities;

/** One activity invocation written as data, so a plan can be shown (dry run) before it is run. */
export type ActivityCall = {
  [K in ActivityName]: {
    activity: K;
    args: Parameters<OperationActivities[K]>[0];
    summary: string;
    /** An earlier step whose result the runner passes in as `args.observed`. */
    observes?: string;
  };
}[ActivityName];

export interface PlannedStep {
  /** camelCase step name, as it appears in the operation's steps. */
  name: string;
  do: ActivityCall;
  /** Undoes `do`; registered as soon as `do` succeeds and run, newest first, if a later step fails. */
  undo?: ActivityCall;
  /**
   * The point of no return (e.g. deleting the old disks): once this step succeeds, a later failure is not
   * compensated — what is gone cannot come back — and leaves the operation stuck for a human instead.
   */
  commit?: true;
  /**
   * The VM runs on node `to` once this step has succeeded (a migration's switch-over), and on `from` again once its
   * undo has run: the workflow's NodeId search attribute follows it, so ops find the operation under either node.
   */
  movesVm?: { from: string; to: string };
}

/**
 * A step that runs nothing: the operation parks until it is told to go on (an Update named after `for`) or
 * until `timeoutSeconds` have passed, whichever comes first; then the next step runs. A cancel while it waits
 * undoes the steps done so far, as anywhere before the point of no return.
 */
export interface WaitStep {
  name: string;
  wait: { for: WaitReason; timeoutSeconds: number; summary: string };
  /** Once the operation has been told to go on, nothing before is undone (a finalized migration). */
  commit?: true;
  do?: never;
  undo?: never;
  movesVm?: never;
}

export type PlanStep = PlannedStep | WaitStep;

export function isWaitStep(step: PlanStep): step is WaitStep {
  return 'wait' in step && step.wait !== undefined;
}

/** The steps of an operation, run as a saga (see runOperation). Plans with wait steps say so: OperationPlan<PlanStep>. */
export interface OperationPlan<S extends PlanStep = PlannedStep> {
  steps: S[];
  /** Run after every undo succeeded (e.g. drop the record of what never came to exist). */
  afterCompensation?: ActivityCall;
}

/** A step as an operation reports it before it has run. */
export function pendingStep(name: string): OperationStep {
  return { name, status: 'pending', startedAt: null, finishedAt: null, attempts: 0, error: null };
}

/** The plan's steps as an operation reports them before any has run. */
export function pendingSteps(plan: OperationPlan<PlanStep>): OperationStep[] {
  return plan.steps.map((s) => pendingStep(s.name));
}

/** The drain's own activity, on the shared queue (see drainNodeWorkflow). */
export interface DrainActivities {
  /**
   * Admits and records the migration of one VM off the draining node, as the API would a migrate request with no
   * target (placement picks one), locking the VM for `operationId`; the workflow then starts it as a child.
   * Idempotent: a retried call finds its own pending record and makes it anew.
   */
  launchDrainMigration(args: {
    drainOperationId: string;
    requestedByTenantId: string;
    operationId: string;
    vmId: string;
    nodeId: string;
  }): Promise<DrainMigrationLaunch>;
}

/**
 * A snapshot definition's scheduled run (scheduledSnapshotWorkflow), on the shared queue: each records its
 * operation as the API would (the VM's lock, the records it writes up front) for the run to start as a child.
 * Idempotent: a retried call finds its own pending record and makes it anew.
 */
export interface SnapshotScheduleActivities {
  /** snapshot.create of the definition's disk, named `<definition>-<takenAt as YYYYMMDD-HHMMSS>`, type automatic. */
  launchScheduledSnapshot(args: {
    definitionId: string;
    scheduleId: string;
    operationId: string;
    takenAt: string;
  }): Promise<ScheduledLaunch<SnapshotCreateInput>>;
  /** snapshot.delete of the definition's automatic snapshots beyond its retention, oldest first. */
  launchSnapshotPruning(args: { definitionId: string; operationId: string }): Promise<ScheduledLaunch<SnapshotDeleteInput>>;
}

/** What one pass of the reconciler found and settled. */
export interface ReconcileReport {
  /** Unfinished operations it looked at. */
  checked: number;
  /** Those it settled: their workflow ended without finishing them (WORKFLOW_ENDED) or never started (NEVER_STARTED). */
  settled: { operationId: string; type: string; vmId: string | null; code: string }[];
  /** Schedules of deleted snapshot definitions it deleted from Temporal (those the API could not). */
  schedulesDeleted?: number;
}

/** The reconciler's one activity, on the shared queue (see reconcileOperationsWorkflow). */
export interface ReconcilerActivities {
  reconcileOperations(): Promise<ReconcileReport>;
}
