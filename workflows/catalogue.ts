import type {
  CloneVmInput,
  CreateVmInput,
  DeleteVmInput,
  DiskAttachInput,
  DiskChangeInput,
  DiskCreateInput,
  DiskRollbackInput,
  DrainNodeInput,
  MigrateVmInput,
  NicChangeInput,
  NicCreateInput,
  OperationPlan,
  OperationType,
  PlanStep,
  RebuildVmInput,
  SnapshotCreateInput,
  SnapshotDeleteInput,
  SnapshotRollbackInput,
  TemplateCreateInput,
  TemplateDeleteInput,
  UpdateVmInput,
  VmOperationInput,
  VmPowerInput,
} from '../libs/contracts/src';
import { cloneVmPlan, createVmPlan } from './plans/create-vm.plan';
import { attachDiskPlan, createDiskPlan, deleteDiskPlan, detachDiskPlan, resizeDiskPlan } from './plans/disk.plan';
import { migrateVmPlan, migrationSummary } from './plans/migrate.plan';
import { attachNicPlan, createNicPlan, deleteNicPlan, detachNicPlan } from './plans/nic.plan';
import { freezeVmPlan, hardResetVmPlan, rebootVmPlan, shutdownVmPlan, startVmPlan, stopVmPlan } from './plans/power.plan';
import { resetVmPlan } from './plans/reset-vm.plan';
import { createSnapshotPlan, deleteSnapshotsPlan, rollbackDiskPlan, rollbackSnapshotPlan, syncSnapshotsPlan } from './plans/snapshot.plan';
import { createTemplatePlan, deleteTemplatePlan } from './plans/template.plan';
import { deleteVmPlan, rebuildVmPlan, updateVmPlan } from './plans/vm.plan';

/** One operation type as the engine knows it. `I` is its workflow's input. */
export interface OperationEntry<I> {
  readonly type: OperationType;
  /** The workflow function that runs it, as workflows/index.ts exports it (a unit test holds the two together). */
  readonly workflowType: string;
  /**
   * How long it may take before it is reported overdue (status detail and metric). An overdue operation is never
   * killed: stopping a saga half-way is worse than a slow one; a human decides.
   */
  readonly deadlineSeconds: number;
  /** The plan its workflow runs for this input (the dry run shows it); none for a workflow of child operations. */
  readonly plan?: (input: I) => OperationPlan<PlanStep>;
  /** Its workflow's summary in the Temporal UI, where more than "<type> <hostname>" helps (a migration names both nodes). */
  readonly summary?: (input: I) => string;
  /** Compile-time only: the input type, so that whoever starts the workflow passes what it takes. */
  readonly input?: I;
}

/** An operation whose workflow runs a plan: every type but a drain. */
export interface PlannedOperation<I> extends OperationEntry<I> {
  readonly plan: (input: I) => OperationPlan<PlanStep>;
}

const entry =
  <I>() =>
  (workflowType: string, deadlineSeconds: number, plan: (input: I) => OperationPlan<PlanStep>, summary?: (input: I) => string) =>
  <T extends OperationType>(type: T): PlannedOperation<I> & { type: T } => ({ type, workflowType, deadlineSeconds, plan, summary });

const withoutPlan =
  <I>() =>
  (workflowType: string, deadlineSeconds: number, summary?: (input: I) => string) =>
  <T extends OperationType>(type: T): OperationEntry<I> & { type: T } => ({ type, workflowType, deadlineSeconds, summary });

const MINUTES = 60;
const HOURS = 60 * MINUTES;

const ENTRIES = {
  'vm.create': entry<CreateVmInput>()('createVmWorkflow', 30 * MINUTES, createVmPlan),
  'vm.start': entry<VmPowerInput>()('startVmWorkflow', 10 * MINUTES, startVmPlan),
  'vm.stop': entry<VmPowerInput>()('stopVmWorkflow', 10 * MINUTES, stopVmPlan),
  'vm.shutdown': entry<VmPowerInput>()('shutdownVmWorkflow', 10 * MINUTES, shutdownVmPlan),
  'vm.reboot': entry<VmPowerInput>()('rebootVmWorkflow', 15 * MINUTES, rebootVmPlan),
  'vm.hard_reset': entry<VmPowerInput>()('hardResetVmWorkflow', 5 * MINUTES, hardResetVmPlan),
  'vm.freeze': entry<VmPowerInput>()('freezeVmWorkflow', 5 * MINUTES, (input) => freezeVmPlan(input, true)),
  'vm.unfreeze': entry<VmPowerInput>()('unfreezeVmWorkflow', 5 * MINUTES, (input) => freezeVmPlan(input, false)),
  'vm.reset': entry<VmPowerInput>()('resetVmWorkflow', 10 * MINUTES, resetVmPlan),
  'vm.delete': entry<DeleteVmInput>()('deleteVmWorkflow', 30 * MINUTES, deleteVmPlan),
  'vm.update': entry<UpdateVmInput>()('updateVmWorkflow', 30 * MINUTES, updateVmPlan),
  'vm.rebuild': entry<RebuildVmInput>()('rebuildVmWorkflow', 1 * HOURS, rebuildVmPlan),
  'vm.clone': entry<CloneVmInput>()(
    'cloneVmWorkflow',
    2 * HOURS,
    cloneVmPlan,
    (input) => `vm.clone ${input.source.hostname} → ${input.hostname}`,
  ),
  'disk.create': entry<DiskCreateInput>()('createDiskWorkflow', 30 * MINUTES, createDiskPlan),
  'disk.attach': entry<DiskAttachInput>()('attachDiskWorkflow', 15 * MINUTES, attachDiskPlan),
  'disk.detach': entry<DiskChangeInput>()('detachDiskWorkflow', 15 * MINUTES, detachDiskPlan),
  'disk.resize': entry<DiskChangeInput>()('resizeDiskWorkflow', 30 * MINUTES, resizeDiskPlan),
  'disk.delete': entry<DiskChangeInput>()('deleteDiskWorkflow', 15 * MINUTES, deleteDiskPlan),
  'nic.create': entry<NicCreateInput>()('createNicWorkflow', 15 * MINUTES, createNicPlan),
  'nic.attach': entry<NicChangeInput>()('attachNicWorkflow', 15 * MINUTES, attachNicPlan),
  'nic.detach': entry<NicChangeInput>()('detachNicWorkflow', 15 * MINUTES, detachNicPlan),
  'nic.delete': entry<NicChangeInput>()('deleteNicWorkflow', 15 * MINUTES, deleteNicPlan),
  'snapshot.create': entry<SnapshotCreateInput>()('createSnapshotWorkflow', 30 * MINUTES, createSnapshotPlan),
  'snapshot.delete': entry<SnapshotDeleteInput>()('deleteSnapshotsWorkflow', 15 * MINUTES, deleteSnapshotsPlan),
  'snapshot.sync': entry<VmOperationInput>()('syncSnapshotsWorkflow', 10 * MINUTES, syncSnapshotsPlan),
  'snapshot.rollback': entry<SnapshotRollbackInput>()('rollbackSnapshotWorkflow', 1 * HOURS, rollbackSnapshotPlan),
  'disk.rollback': entry<DiskRollbackInput>()('rollbackDiskWorkflow', 1 * HOURS, rollbackDiskPlan),
  // A two-phase migration waits for its finalize: up to a day (MAX_FINALIZE_TIMEOUT_SECONDS) on top of the copy.
  'vm.migrate': entry<MigrateVmInput>()('migrateVmWorkflow', 26 * HOURS, migrateVmPlan, migrationSummary),
  // A drain runs no plan of its own: one vm.migrate operation per VM (its dry run outlines them).
  'node.drain': withoutPlan<DrainNodeInput>()(
    'drainNodeWorkflow',
    24 * HOURS,
    (input) => `node.drain ${input.nodeName}: ${input.vms.length} VM(s), ${input.concurrency} at a time`,
  ),
  'template.create': entry<TemplateCreateInput>()('createTemplateWorkflow', 1 * HOURS, createTemplatePlan),
  'template.delete': entry<TemplateDeleteInput>()(
    'deleteTemplateWorkflow',
    15 * MINUTES,
    deleteTemplatePlan,
    (input) => `template.delete ${input.name}`,
  ),
} satisfies Record<OperationType, unknown>;

type Entries = typeof ENTRIES;

/**
 * The operation catalogue: every operation type (OPERATION_TYPES: the compiler refuses a type without its entry), the
 * workflow that runs it, its deadline and its plan. The API starts an operation through its entry (the input type
 * checked by the compiler), the worker, the reconciler and the schedules read deadlines here.
 */
export const OPERATIONS: { readonly [T in OperationType]: ReturnType<Entries[T]> } = Object.fromEntries(
  Object.entries(ENTRIES).map(([type, make]) => [type, make(type as OperationType)]),
) as { [T in OperationType]: ReturnType<Entries[T]> };

/** The input of operation type T's workflow. */
export type OperationInput<T extends OperationType> = NonNullable<(typeof OPERATIONS)[T]['input']>;
