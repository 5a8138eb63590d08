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
import { attachDiskPlan } from './plans/disk.attach.plan';
import { createDiskPlan } from './plans/disk.create.plan';
import { deleteDiskPlan } from './plans/disk.delete.plan';
import { detachDiskPlan } from './plans/disk.detach.plan';
import { resizeDiskPlan } from './plans/disk.resize.plan';
import { rollbackDiskPlan } from './plans/disk.rollback.plan';
import { attachNicPlan } from './plans/nic.attach.plan';
import { createNicPlan } from './plans/nic.create.plan';
import { deleteNicPlan } from './plans/nic.delete.plan';
import { detachNicPlan } from './plans/nic.detach.plan';
import { createSnapshotPlan } from './plans/snapshot.create.plan';
import { deleteSnapshotsPlan } from './plans/snapshot.delete.plan';
import { rollbackSnapshotPlan } from './plans/snapshot.rollback.plan';
import { syncSnapshotsPlan } from './plans/snapshot.sync.plan';
import { createTemplatePlan } from './plans/template.create.plan';
import { deleteTemplatePlan, deleteTemplateSummary } from './plans/template.delete.plan';
import { cloneSummary, cloneVmPlan } from './plans/vm.clone.plan';
import { createVmPlan } from './plans/vm.create.plan';
import { deleteVmPlan } from './plans/vm.delete.plan';
import { freezeVmPlan } from './plans/vm.freeze.plan';
import { hardResetVmPlan } from './plans/vm.hard_reset.plan';
import { migrateVmPlan, migrationSummary } from './plans/vm.migrate.plan';
import { rebootVmPlan } from './plans/vm.reboot.plan';
import { rebuildVmPlan } from './plans/vm.rebuild.plan';
import { legacyResetVmPlan, resetVmPlan } from './plans/vm.reset.plan';
import { shutdownVmPlan } from './plans/vm.shutdown.plan';
import { startVmPlan } from './plans/vm.start.plan';
import { legacyStopVmPlan, stopVmPlan } from './plans/vm.stop.plan';
import { unfreezeVmPlan } from './plans/vm.unfreeze.plan';
import { updateVmPlan } from './plans/vm.update.plan';
import { copyDiskPlan, type CopyDiskInput } from './plans/disk.copy.plan';

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
  /**
   * The plan that workflows started before patch `id` still run: the workflow asks `patched(id)` and runs `plan` or
   * `before`. Retired in two steps (docs/writing-an-operation.md): once no open execution started before it, its id
   * moves to `deprecatedPatches` and `before` goes; later the id goes too.
   */
  readonly patch?: { readonly id: string; readonly before: (input: I) => OperationPlan<PlanStep> };
  /**
   * Patches whose `before` plan is gone: the workflow marks each with `deprecatePatch(id)`, so that executions that
   * started under `patch` still replay. An id leaves this list once no execution that started before it is open.
   */
  readonly deprecatedPatches?: readonly string[];
  /** Compile-time only: the input type, so that whoever starts the workflow passes what it takes. */
  readonly input?: I;
}

/** An operation whose workflow runs a plan: every type but a drain. */
export interface PlannedOperation<I> extends OperationEntry<I> {
  readonly plan: (input: I) => OperationPlan<PlanStep>;
}

/** What an entry may add to its workflow type, deadline and plan. */
type EntryOptions<I> = Pick<OperationEntry<I>, 'summary' | 'patch' | 'deprecatedPatches'>;

const entry =
  <I>() =>
  (workflowType: string, deadlineSeconds: number, plan: (input: I) => OperationPlan<PlanStep>, options: EntryOptions<I> = {}) =>
  <T extends OperationType>(type: T): PlannedOperation<I> & { type: T } => ({ type, workflowType, deadlineSeconds, plan, ...options });

const withoutPlan =
  <I>() =>
  (workflowType: string, deadlineSeconds: number, summary: (input: I) => string) =>
  <T extends OperationType>(type: T): OperationEntry<I> & { type: T } => ({ type, workflowType, deadlineSeconds, summary });

const MINUTES = 60;
const HOURS = 60 * MINUTES;

const ENTRIES = {
  'vm.create': entry<CreateVmInput>()('createVmWorkflow', 30 * MINUTES, createVmPlan),
  'vm.start': entry<VmPowerInput>()('startVmWorkflow', 10 * MINUTES, startVmPlan),
  // Patch graceful-stop: vm.stop became an ACPI shutdown (forced after the timeout) instead of a hard power-off.
  'vm.stop': entry<VmPowerInput>()('stopVmWorkflow', 10 * MINUTES, stopVmPlan, {
    patch: { id: 'graceful-stop', before: legacyStopVmPlan },
  }),
  'vm.shutdown': entry<VmPowerInput>()('shutdownVmWorkflow', 10 * MINUTES, shutdownVmPlan),
  'vm.reboot': entry<VmPowerInput>()('rebootVmWorkflow', 15 * MINUTES, rebootVmPlan),
  'vm.hard_reset': entry<VmPowerInput>()('hardResetVmWorkflow', 5 * MINUTES, hardResetVmPlan),
  'vm.freeze': entry<VmPowerInput>()('freezeVmWorkflow', 5 * MINUTES, freezeVmPlan),
  'vm.unfreeze': entry<VmPowerInput>()('unfreezeVmWorkflow', 5 * MINUTES, unfreezeVmPlan),
  // Patch reset-reads-node-through-agent: the reset reads the node through its agent (two steps), not one shared-worker step.
  'vm.reset': entry<VmPowerInput>()('resetVmWorkflow', 10 * MINUTES, resetVmPlan, {
    patch: { id: 'reset-reads-node-through-agent', before: legacyResetVmPlan },
  }),
  'vm.delete': entry<DeleteVmInput>()('deleteVmWorkflow', 30 * MINUTES, deleteVmPlan),
  'vm.update': entry<UpdateVmInput>()('updateVmWorkflow', 30 * MINUTES, updateVmPlan),
  'vm.rebuild': entry<RebuildVmInput>()('rebuildVmWorkflow', 1 * HOURS, rebuildVmPlan),
  'vm.clone': entry<CloneVmInput>()('cloneVmWorkflow', 2 * HOURS, cloneVmPlan, { summary: cloneSummary }),
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
  'vm.migrate': entry<MigrateVmInput>()('migrateVmWorkflow', 26 * HOURS, migrateVmPlan, { summary: migrationSummary }),
  // A drain runs no plan of its own: one vm.migrate operation per VM (its dry run outlines them).
  'node.drain': withoutPlan<DrainNodeInput>()(
    'drainNodeWorkflow',
    24 * HOURS,
    (input) => `node.drain ${input.nodeName}: ${input.vms.length} VM(s), ${input.concurrency} at a time`,
  ),
  'template.create': entry<TemplateCreateInput>()('createTemplateWorkflow', 1 * HOURS, createTemplatePlan),
  'template.delete': entry<TemplateDeleteInput>()('deleteTemplateWorkflow', 15 * MINUTES, deleteTemplatePlan, {
    summary: deleteTemplateSummary,
  }),
  'disk.copy': entry<CopyDiskInput>()('copyDiskWorkflow', 1 * HOURS, copyDiskPlan),
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
