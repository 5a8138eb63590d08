import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import {
  Client,
  isGrpcCancelledError,
  isGrpcDeadlineError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  finalizeUpdate,
  isTerminalOperationStatus,
  type OperationStatus,
  isWaitStep,
  operationPriority,
  operationSearchAttributes,
  operationWorkflowId,
  pendingStep,
  progressQuery,
  type JsonObject,
  type OperationProgress,
  type PlanStep,
  type StepProgress,
  type OperationType,
} from '@vmops/contracts';
import type { AppConfig } from '@vmops/config';
import {
  abandonOperation,
  entityOfRow,
  insertOperation,
  isOperationPending,
  NEVER_STARTED_AFTER_MS,
  OperationEntity,
  requestHash,
  settleIfStale,
  type DescribeWorkflow,
  type Reservations,
} from '@vmops/persistence';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, Repository } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { coalescing } from '../common/coalescing';
import { CURSOR_PATTERNS, decodeCursor, encodeCursor, withCursorChecked, type KeysetPage, type KeysetPageQuery } from '../common/keyset';
import { APP_CONFIG } from '../config.token';
import { DatabaseNotificationsService } from '../events/database-notifications.service';
import { probeTemporal, TEMPORAL_CLIENT } from '../temporal/temporal.module';
import type { OperationEntry } from '@vmops/catalogue';
import { OPERATION_RECORD_FIELDS, toOperationView, type OperationRecord, type OperationView, type RunningActivity } from './operation.view';

const LIVE_PROGRESS_TIMEOUT_MS = 2000;
/** Whether Temporal answers at all, once a start was not answered in time: asked this long at most. */
const PROBE_TIMEOUT_MS = 2000;
/**
 * A start that goes on in the background gives up this long before the reconciler would call its operation never
 * started (NEVER_STARTED_AFTER_MS after it was recorded), so that the operation is settled here, with its cause.
 */
const START_MARGIN_MS = 3000;
/** Between two sends of a start that failed at once (not a deadline: the server refused, or the connection dropped). */
const START_RETRY_MS = 1000;
/**
 * /wait answers when the database announces the end. While the listening connection is down (announcements are then
 * lost) it reads the record this often; while it is up, every WAIT_SAFETY_READ_MS only, should the connection be
 * dead without its end being noticed. A thousand waits reading every 2 s were 500 queries a second, for nothing.
 */
const WAIT_FALLBACK_MS = 2000;
const WAIT_SAFETY_READ_MS = 30_000;

/**
 * A call that was not answered by its deadline. gRPC says so as DEADLINE_EXCEEDED, or as CANCELLED when the deadline
 * passed before the call was sent (queued behind a burst on the connection): seen as 82 of 1,000 starts at once.
 */
function notAnsweredInTime(err: unknown): boolean {
  return isGrpcDeadlineError(err) || isGrpcCancelledError(err);
}

/** An error and its causes, one after the other ("Failed to start Workflow: 4 DEADLINE_EXCEEDED: …"). */
function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e && parts.length < 5; e = (e as { cause?: unknown }).cause)
    parts.push(e instanceof Error ? e.message : String(e));
  return parts.join(': ');
}

/**
 * One /wait: told when its operation's end is announced (with the final record, unless it was too large to announce),
 * and when the listener is up again (what it missed is lost).
 */
interface EndWaiter {
  ended(record: (OperationRecord & { tenantId: string; requestedByTenantId: string | null }) | null): void;
  reconnected(): void;
}
const DESCRIBE_TIMEOUT_MS = 3000;

/** How the caller asked for a mutation: the Idempotency-Key header and ?dryRun. */
export interface MutationOptions {
  idempotencyKey?: string;
  dryRun: boolean;
}

export interface Launch<I> {
  /** Whose key asked for it. */
  principal: Principal;
  /**
   * The tenant the operation belongs to when it is not the principal's (an operator acting on another tenant's
   * VM): it is recorded there, and the principal's tenant may read it too.
   */
  onBehalfOf?: string;
  /** The operation's catalogue entry: its type, workflow, deadline and plan (workflows/catalogue.ts). */
  operation: OperationEntry<I>;
  /** The request as accepted, target included: stored, and hashed for Idempotency-Key. */
  request: JsonObject;
  /**
   * Runs in the transaction that records the operation: checks and reserves what the operation needs (the
   * VM lock, capacity, records written up front) and returns the VM it acts on, the workflow input, and what
   * it reserved beyond the lock: recorded with the operation, so that whoever finds the workflow never started
   * gives it back (this launch, a cancel, the reconciler). Throws the 4xx that applies.
   */
  prepare(tx: EntityManager, operationId: string): Promise<Prepared<I>>;
  /** For a workflow that runs no plan (a drain starts one child operation per VM): the steps it will report. */
  outline?(input: I): DryRunStep[];
}

/** What `prepare` found and reserved: the VM the operation acts on — or, for an operation on a node, the node. */
export type Prepared<I> = ({ vm: { id: string; hostname: string; nodeId: string } } | { node: { id: string; name: string } }) & {
  input: I;
  reservations?: Reservations;
};

/**
 * One step as a dry run shows it. `commit`: the point of no return; a failure after it is not undone. A wait step
 * has no activity: `waitsFor` says what it waits for (a finalize), `timeoutSeconds` how long at most. A step that
 * is an operation of its own (a drain's migrations) names its `childWorkflow`.
 */
export interface DryRunStep {
  name: string;
  activity: string | null;
  summary: string;
  undo: string | null;
  undoActivity: string | null;
  commit: boolean;
  waitsFor?: string;
  timeoutSeconds?: number;
  childWorkflow?: string;
}

export interface DryRunView {
  dryRun: true;
  type: OperationType;
  vmId: string | null;
  nodeId: string;
  steps: DryRunStep[];
  afterCompensation: string | null;
  afterCompensationActivity: string | null;
}

export type LaunchResult = { kind: 'started' | 'replayed'; operation: OperationView } | { kind: 'dryRun'; plan: DryRunView };

export interface OperationFilter {
  vmId?: string;
  type?: OperationType;
  status?: OperationEntity['status'];
}

/** Thrown inside the dry run's transaction to roll back what `prepare` reserved. */
class DryRunRollback {
  constructor(readonly plan: DryRunView) {}
}

function dryRunStep(s: PlanStep): DryRunStep {
  return isWaitStep(s)
    ? {
        name: s.name,
        activity: null,
        summary: s.wait.summary,
        undo: null,
        undoActivity: null,
        commit: s.commit ?? false,
        waitsFor: s.wait.for,
        timeoutSeconds: s.wait.timeoutSeconds,
      }
    : {
        name: s.name,
        activity: s.do.activity,
        summary: s.do.summary,
        undo: s.undo?.summary ?? null,
        undoActivity: s.undo?.activity ?? null,
        commit: s.commit ?? false,
      };
}

/** What an operation acts on, for its workflow id, search attributes and summary. */
function subjectOf(prepared: Prepared<unknown>): { vmId: string | null; name: string; nodeId: string } {
  return 'vm' in prepared
    ? { vmId: prepared.vm.id, name: prepared.vm.hostname, nodeId: prepared.vm.nodeId }
    : { vmId: null, name: prepared.node.name, nodeId: prepared.node.id };
}

@Injectable()
export class OperationsService {
  private readonly logger = new Logger(OperationsService.name);
  /** The waits by operation: an announcement goes to its operation's waits only, not to every wait. */
  private readonly endWaiters = new Map<string, Set<EndWaiter>>();
  /** When Temporal last took a start of this process's (temporalAnswers). */
  private lastStartTakenAt = 0;
  /** OPERATION_RECORD_FIELDS' columns: what a read for the view selects. */
  private readonly recordColumnNames: string[];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(OperationEntity) private readonly operations: Repository<OperationEntity>,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly notifications: DatabaseNotificationsService,
  ) {
    const fields: readonly string[] = OPERATION_RECORD_FIELDS;
    this.recordColumnNames = dataSource
      .getMetadata(OperationEntity)
      .columns.filter((c) => fields.includes(c.propertyName))
      .map((c) => c.databaseName);
    notifications.subscribe({
      operationEvent: (notice) => {
        if (!isTerminalOperationStatus(notice.status as OperationStatus)) return;
        const waiters = this.endWaiters.get(notice.operationId);
        if (!waiters) return;
        const record = notice.record ? entityOfRow(this.dataSource, OperationEntity, notice.record) : null;
        const whole = record !== null && OPERATION_RECORD_FIELDS.every((f) => f in record);
        waiters.forEach((w) => w.ended(whole ? record : null));
      },
      connected: () => this.endWaiters.forEach((waiters) => waiters.forEach((w) => w.reconnected())),
    });
  }

  /** Registers a wait for operation `id`'s end; returns its removal. */
  private waitForEnd(id: string, waiter: EndWaiter): () => void {
    const waiters = this.endWaiters.get(id) ?? new Set<EndWaiter>();
    this.endWaiters.set(id, waiters.add(waiter));
    return () => {
      waiters.delete(waiter);
      if (!waiters.size && this.endWaiters.get(id) === waiters) this.endWaiters.delete(id);
    };
  }

  /** Records an operation and starts its workflow — or replays the one its Idempotency-Key names, or only plans it. */
  async launch<I>(launch: Launch<I>, options: MutationOptions): Promise<LaunchResult> {
    const hash = requestHash(launch.operation.type, launch.request);
    const tenantId = launch.onBehalfOf ?? launch.principal.tenantId;
    if (options.idempotencyKey && !options.dryRun) {
      const replay = await this.findByIdempotencyKey(tenantId, options.idempotencyKey, hash);
      if (replay) return { kind: 'replayed', operation: replay };
    }

    const operationId = randomUUID();
    let started: Prepared<I> & { workflowId: string };
    for (let attempt = 1; ; attempt++) {
      try {
        started = await this.record(launch, tenantId, operationId, hash, options);
        break;
      } catch (err) {
        if (err instanceof DryRunRollback) return { kind: 'dryRun', plan: err.plan };
        // Requests with one key at once: a loser fails on what the winner took (its key, the VM's lock, the
        // hostname), once the winner has committed; it answers with the winner's operation.
        if (options.idempotencyKey) {
          const replay = await this.findByIdempotencyKey(tenantId, options.idempotencyKey, hash);
          if (replay) return { kind: 'replayed', operation: replay };
        }
        // The VM is held by an operation that can no longer finish (its workflow ended, or never started): settle
        // that one, then try once more. Every launch does this, so no stale lock outlives the next request.
        const holder = err instanceof ApiError && err.code === 'VM_BUSY' ? (err.details.operationId as string | undefined) : undefined;
        if (attempt > 1 || !holder || !(await settleIfStale(this.dataSource, this.describeWorkflow, holder))) throw err;
        this.logger.warn(`operation ${holder} could no longer finish: settled it, and its VM is free again`);
      }
    }

    const { input, workflowId } = started;
    /** Just after the operation was recorded: the background start's time is counted from here, as the reconciler's. */
    const sentAt = Date.now();
    const subject = subjectOf(started);
    const start = (deadline: number) =>
      this.temporal.connection.withDeadline(deadline, () =>
        this.temporal.workflow.start(launch.operation.workflowType, {
          taskQueue: this.config.temporalTaskQueue,
          workflowId,
          // A start sent again (below) must not run the operation twice: if the first one landed, this one is told so
          // (WorkflowExecutionAlreadyStartedError), whether that workflow still runs or has ended.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          args: [input],
          typedSearchAttributes: operationSearchAttributes({
            type: launch.operation.type,
            tenantId,
            vmId: subject.vmId,
            nodeId: subject.nodeId,
          }),
          priority: operationPriority(tenantId),
          staticSummary: launch.operation.summary?.(input) ?? `${launch.operation.type} ${subject.name}`,
          staticDetails:
            `operation ${operationId}\n${subject.vmId ? `VM ${subject.name} (${subject.vmId})` : `node ${subject.name}`}\ntenant ${tenantId}\nnode ${subject.nodeId}` +
            (launch.onBehalfOf ? `\nrequested by tenant ${launch.principal.tenantId}` : ''),
        }),
      );
    const giveUpAt = sentAt + NEVER_STARTED_AFTER_MS - START_MARGIN_MS;
    try {
      await start(Math.min(giveUpAt, Date.now() + this.config.startTimeoutMs));
      this.lastStartTakenAt = Date.now();
    } catch (err) {
      // Already started: an earlier send of this very start landed (the SDK sends again when a connection drops).
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
        // Not answered in time, by a Temporal that answers otherwise: slower than the request may wait (a burst). The
        // operation is accepted, pending, and its start goes on in the background until shortly before the reconciler
        // would call it never started. Anything else (no answer at all, a refusal): 503, nothing changed.
        if (notAnsweredInTime(err) && Date.now() < giveUpAt && (await this.temporalAnswers(sentAt))) {
          this.logger.log(`${workflowId}: its start was not answered in time (${describeError(err)}); it goes on in the background`);
          this.continueStart(operationId, workflowId, giveUpAt, start);
        } else {
          this.logger.warn(`the start of ${workflowId} failed: ${describeError(err)}`);
          await this.abandonUnstarted(operationId, workflowId, 'the workflow could not be started');
        }
      }
    }
    const [row] = await this.dataSource.query(`SELECT ${this.recordColumns()} FROM operations WHERE id = $1`, [operationId]);
    return { kind: 'started', operation: this.view(entityOfRow(this.dataSource, OperationEntity, row), null) };
  }

  /**
   * Whether Temporal answers at all (a burst makes starts slow; a server that is down answers nothing): it took another
   * start since `since` (while this one waited), or it answers a probe. Under a burst the probe may be slow too (this
   * process is busy as well); a start taken before `since` says nothing (the server may have died since).
   */
  private async temporalAnswers(since: number): Promise<boolean> {
    if (this.lastStartTakenAt > since) return true;
    try {
      await probeTemporal(this.temporal, PROBE_TIMEOUT_MS);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Settles an operation whose workflow did not start: failed TEMPORAL_UNAVAILABLE, its reservations given back, and
   * the request answered 503 ("nothing was changed"). Unless the start landed after all and its workflow has taken the
   * operation over: it runs, and the client gets it like any other.
   */
  private async abandonUnstarted(operationId: string, workflowId: string, message: string): Promise<void> {
    const abandoned = await abandonOperation(
      this.dataSource,
      operationId,
      { code: 'TEMPORAL_UNAVAILABLE', message, step: null },
      { neverStarted: true },
    );
    if (abandoned) {
      this.logger.error(`could not start ${workflowId}: settled operation ${operationId} as never started`);
      throw new ApiError(
        'TEMPORAL_UNAVAILABLE',
        'the operation could not be started: the workflow service is unavailable; nothing was changed, try again',
        { operationId },
      );
    }
    this.logger.warn(`${workflowId} did start after all (its start answered late): the workflow runs the operation`);
  }

  /**
   * Sends an accepted operation's start again until Temporal takes it (or says it already has), the operation is no
   * longer pending (its workflow took it over, or it was settled), or `giveUpAt` passes: then the operation fails
   * TEMPORAL_UNAVAILABLE, nothing changed, as a request would have been told. Should the API die meanwhile, the
   * reconciler settles the operation once it is NEVER_STARTED_AFTER_MS old (a start that lands later finds it settled).
   */
  private continueStart(operationId: string, workflowId: string, giveUpAt: number, start: (deadline: number) => Promise<unknown>): void {
    const run = async () => {
      for (;;) {
        if (!(await isOperationPending(this.dataSource, operationId))) return;
        if (Date.now() >= giveUpAt) {
          await this.abandonUnstarted(operationId, workflowId, 'the workflow could not be started in time').catch(() => undefined);
          return;
        }
        try {
          // One send with all the time left; sent again only after a failure that came before it (a refusal).
          await start(giveUpAt);
          this.lastStartTakenAt = Date.now();
          this.logger.log(`${workflowId} started in the background`);
          return;
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) {
            // An earlier send landed. Its workflow runs the operation, unless it already ended without taking it
            // over (terminated from the UI, say): then it is settled now rather than at the reconciler's next pass.
            await this.settleIfEnded(operationId, workflowId, giveUpAt);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, START_RETRY_MS));
        }
      }
    };
    void run().catch((err) => this.logger.error(`starting ${workflowId} in the background failed: ${describeError(err)}`));
  }

  /**
   * Settles an operation whose workflow has ended without finishing it (settleIfStale), with a describe that is asked
   * again when it fails (not answered in time under a burst, a dropped connection) until `until`: one lost answer must
   * not leave the operation to the reconciler, which looks at it only once it is NEVER_STARTED_AFTER_MS old.
   */
  private async settleIfEnded(operationId: string, workflowId: string, until: number): Promise<void> {
    const describeAgain: DescribeWorkflow = async (id) => {
      for (;;) {
        try {
          return await this.describeWorkflow(id);
        } catch (err) {
          if (Date.now() + START_RETRY_MS >= until) {
            this.logger.warn(
              `${workflowId}: could not tell whether its workflow still runs (${describeError(err)}); left to the reconciler`,
            );
            throw err;
          }
          await new Promise((resolve) => setTimeout(resolve, START_RETRY_MS));
        }
      }
    };
    const settled = await settleIfStale(this.dataSource, describeAgain, operationId);
    if (settled) this.logger.warn(`${workflowId} ended before it finished operation ${operationId}: settled it (${settled.code})`);
  }

  /**
   * The transaction that runs `prepare` and records the operation in `tenantId` (or, for a dry run, rolls it all
   * back).
   */
  private record<I>(
    launch: Launch<I>,
    tenantId: string,
    operationId: string,
    hash: string,
    options: MutationOptions,
  ): Promise<Prepared<I> & { workflowId: string }> {
    return this.dataSource.transaction(async (tx) => {
      const prepared = await launch.prepare(tx, operationId);
      const subject = subjectOf(prepared);
      const plan = launch.operation.plan?.(prepared.input);
      const steps: DryRunStep[] = plan ? plan.steps.map(dryRunStep) : launch.outline!(prepared.input);
      if (options.dryRun) {
        throw new DryRunRollback({
          dryRun: true,
          type: launch.operation.type,
          vmId: subject.vmId,
          nodeId: subject.nodeId,
          steps,
          afterCompensation: plan?.afterCompensation?.summary ?? null,
          afterCompensationActivity: plan?.afterCompensation?.activity ?? null,
        });
      }
      const workflowId = operationWorkflowId(launch.operation.type, subject.name, operationId);
      await insertOperation(tx, {
        id: operationId,
        tenantId,
        vmId: subject.vmId,
        type: launch.operation.type,
        workflowId,
        request: launch.request,
        steps: steps.map((s) => pendingStep(s.name)),
        idempotencyKey: options.idempotencyKey ?? null,
        requestHash: hash,
        deadlineSeconds: launch.operation.deadlineSeconds,
        reservations: prepared.reservations ?? {},
        requestedByTenantId: launch.onBehalfOf ? launch.principal.tenantId : null,
      });
      return { ...prepared, workflowId };
    });
  }

  /** The columns of an operation's view, as a select list (of table `alias`, when given). */
  private recordColumns(alias = ''): string {
    return this.recordColumnNames.map((c) => `${alias}${c}`).join(', ');
  }

  /** The workflow's execution status, null when Temporal has none by that id (see settleIfStale). */
  private readonly describeWorkflow = async (workflowId: string): Promise<string | null> => {
    try {
      const description = await this.temporal.connection.withDeadline(Date.now() + DESCRIBE_TIMEOUT_MS, () =>
        this.temporal.workflow.getHandle(workflowId).describe(),
      );
      return description.status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  };

  async get(principal: Principal, id: string): Promise<OperationView> {
    const op = await this.find(principal, id);
    const live = await this.liveProgress(op);
    const running = live?.steps.some((s) => s.status === 'running') ? await this.runningActivity(op) : null;
    return this.view(op, live, running);
  }

  /**
   * The running step's activity, from the workflow's pending activities: the progress its driver call last heartbeated
   * (see ReportProgress), the attempt it is on and why the previous one failed.
   */
  private async runningActivity(op: OperationRecord): Promise<RunningActivity | null> {
    try {
      const { raw } = await this.temporal.connection.withDeadline(Date.now() + DESCRIBE_TIMEOUT_MS, () =>
        this.temporal.workflow.getHandle(op.workflowId).describe(),
      );
      const [activity] = raw.pendingActivities ?? [];
      if (!activity) return null;
      const [payload] = activity.heartbeatDetails?.payloads ?? [];
      const value: unknown = payload ? defaultPayloadConverter.fromPayload(payload) : null;
      const progress =
        typeof value === 'number'
          ? { percent: value }
          : value && typeof value === 'object' && typeof (value as StepProgress).percent === 'number'
            ? (value as StepProgress)
            : null;
      return { progress, attempt: activity.attempt ?? 1, lastFailure: activity.lastFailure?.message ?? null };
    } catch (err) {
      this.logger.warn(`step progress of ${op.workflowId} unavailable: ${err instanceof Error ? err.message : err}`);
    }
    return null;
  }

  /**
   * Long-poll: answers as soon as the operation is final in the database (announced by NOTIFY when its final
   * record commits), or after timeoutSeconds with its state then.
   */
  async wait(principal: Principal, id: string, timeoutSeconds: number): Promise<OperationView> {
    const op = await this.untilFinished(principal, id, Date.now() + timeoutSeconds * 1000);
    return this.view(op, await this.liveProgress(op));
  }

  /**
   * The operation's record once it is final, or as it is at the deadline. Subscribed before the first read, so that
   * an end announced at any moment is seen; the announcement carries the final record, so the answer needs no read
   * of it (unless it was too large to announce). Read again after a reconnection of the listener (announcements made
   * while it was down are lost), every WAIT_FALLBACK_MS while it is down, and every WAIT_SAFETY_READ_MS besides.
   */
  private untilFinished(principal: Principal, id: string, deadline: number): Promise<OperationRecord> {
    this.notifications.start();
    return new Promise<OperationRecord>((resolve, reject) => {
      let latest: OperationRecord | null = null;
      let settled = false;
      let expired = Date.now() >= deadline;
      const timers: NodeJS.Timeout[] = [];
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        timers.forEach(clearTimeout);
        if (error || !latest) reject(error);
        else resolve(latest);
      };
      let lastRead = 0;
      // The last read, at the deadline, ends the wait whatever it finds.
      const read = coalescing(async () => {
        if (settled) return;
        lastRead = Date.now();
        await this.find(principal, id).then((row) => {
          latest = row;
          if (isTerminalOperationStatus(row.status) || expired) finish();
        }, finish);
      });
      const unsubscribe = this.waitForEnd(id, {
        // The final record, announced: the answer, with no read of it (the same rule as find's says whose it is).
        ended: (record) => {
          if (record && (record.tenantId === principal.tenantId || record.requestedByTenantId === principal.tenantId)) {
            latest = record;
            finish();
          } else read();
        },
        // After each reconnection (the first read below covers the listener being up already).
        reconnected: () => read(),
      });
      read();
      timers.push(
        setInterval(() => {
          if (!this.notifications.listening || Date.now() - lastRead >= WAIT_SAFETY_READ_MS) read();
        }, WAIT_FALLBACK_MS),
      );
      timers.push(
        setTimeout(
          () => {
            expired = true;
            read();
          },
          Math.max(0, deadline - Date.now()),
        ),
      );
    });
  }

  /** Asks the workflow to stop; it undoes what it did and ends `cancelled`. */
  async cancel(principal: Principal, id: string, retried = false): Promise<OperationView> {
    const op = await this.find(principal, id);
    if (isTerminalOperationStatus(op.status)) {
      throw new ApiError('OPERATION_FINISHED', `operation ${id} has already ${op.status}; there is nothing to cancel`, {
        operationId: id,
        status: op.status,
      });
    }
    const live = await this.liveProgress(op);
    if (live?.committed) {
      throw new ApiError(
        'PAST_POINT_OF_NO_RETURN',
        `operation ${id} has passed its point of no return (step "${live.committed}"): it can no longer be cancelled and runs to its end`,
        { operationId: id, step: live.committed },
      );
    }
    try {
      await this.temporal.workflow.getHandle(op.workflowId).cancel();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // Its workflow never started (the launch died after recording it): cancelled at once, and what it reserved
      // is given back. Should the launch still start it, the workflow finds it settled and does nothing.
      const abandoned = await abandonOperation(
        this.dataSource,
        id,
        { code: 'CANCELLED', message: 'cancelled on request before its workflow started; nothing was changed', step: null },
        { neverStarted: true, status: 'cancelled' },
      );
      if (abandoned) return this.get(principal, id);
      // It started meanwhile (the launch's start landed late) or finished: the cancel goes to the workflow after all.
      // Once only: an operation marked running whose workflow is not there either is the reconciler's to settle.
      if (!retried) return this.cancel(principal, id, true);
      throw new ApiError('TEMPORAL_UNAVAILABLE', `operation ${id} could not be cancelled: its workflow is not there; try again`, {
        operationId: id,
      });
    }
    await this.dataSource.query(`UPDATE operations SET status = 'cancelling', updated_at = now() WHERE id = $1 AND finished_at IS NULL`, [
      id,
    ]);
    return this.get(principal, id);
  }

  /**
   * Lets an operation parked at its finalize step go on (a two-phase migration: the source's copy is freed and the
   * VM stays on the target). 409 unless it is waiting for exactly that; the workflow's validator has the last word.
   */
  async finalize(principal: Principal, id: string): Promise<OperationView> {
    const op = await this.find(principal, id);
    const notWaiting = (why: string) =>
      new ApiError(
        'NOT_WAITING_FOR_FINALIZE',
        `operation ${id} is not waiting to be finalized: ${why}; only a two-phase migration (finalize: false) waits, after its switch-over`,
        {
          operationId: id,
          status: op.status,
        },
      );
    if (isTerminalOperationStatus(op.status)) throw notWaiting(`it has ${op.status}`);
    const live = await this.liveProgress(op);
    if (live?.waiting?.for !== 'finalize')
      throw notWaiting(
        live
          ? `it is ${live.status}${live.steps.find((s) => s.status === 'running') ? ` at step "${live.steps.find((s) => s.status === 'running')!.name}"` : ''}`
          : `it is ${op.status}`,
      );
    try {
      await this.temporal.workflow.getHandle(op.workflowId).executeUpdate(finalizeUpdate);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError) throw notWaiting('it moved on meanwhile');
      throw err;
    }
    return this.get(principal, id);
  }

  /**
   * The tenant's operations, and those its keys asked for on another tenant's behalf, newest first (the id breaks
   * ties). Each side is read from its own index and the two are merged, so a page costs one index read each.
   */
  async list(principal: Principal, filter: OperationFilter, query: KeysetPageQuery): Promise<KeysetPage<OperationView>> {
    const cursor = decodeCursor(query, 'newest', { key: CURSOR_PATTERNS.timestamp, tie: CURSOR_PATTERNS.uuid });
    const params: unknown[] = [principal.tenantId];
    const clauses: string[] = [];
    const add = (column: string, value: unknown) => {
      params.push(value);
      clauses.push(`${column} = $${params.length}`);
    };
    if (filter.vmId) add('vm_id', filter.vmId);
    if (filter.type) add('type', filter.type);
    if (filter.status) add('status', filter.status);
    const filters = clauses.map((c) => ` AND ${c}`).join('');
    const pageParams = [...params];
    let after = '';
    if (cursor) {
      pageParams.push(cursor.key, cursor.tie);
      after = ` AND (created_at, id) < ($${pageParams.length - 1}::timestamptz, $${pageParams.length}::uuid)`;
    }
    const take = query.offset + query.limit + 1;
    const side = (owner: string, columns: string) =>
      `(SELECT ${columns} FROM operations o WHERE ${owner}${filters}${after} ORDER BY created_at DESC, id DESC LIMIT ${take})`;
    const sides = (columns: string) =>
      `${side('tenant_id = $1', columns)} UNION ALL ${side('requested_by_tenant_id = $1 AND tenant_id <> $1', columns)}`;
    // A first page, or one after a cursor, reads its rows straight from the two indexes. A page at an offset reads
    // the skipped rows' keys only, from the indexes, then the page's rows by id.
    const pageSql =
      query.offset === 0
        ? `SELECT * FROM (${sides(`${this.recordColumns('o.')}, o.created_at::text AS key`)}) sides
            ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`
        : `WITH page AS (
             SELECT id, created_at FROM (${sides('id, created_at')}) sides
              ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1} OFFSET ${query.offset})
           SELECT ${this.recordColumns('o.')}, o.created_at::text AS key FROM page JOIN operations o ON o.id = page.id ORDER BY page.created_at DESC, page.id DESC`;
    const [rows, total] = await withCursorChecked(cursor, () =>
      Promise.all([
        this.dataSource.query(pageSql, pageParams) as Promise<(Record<string, unknown> & { id: string; key: string })[]>,
        query.total
          ? this.dataSource
              .query(
                `SELECT count(*)::int AS total FROM operations WHERE (tenant_id = $1 OR requested_by_tenant_id = $1)${filters}`,
                params,
              )
              .then((counted: { total: number }[]) => counted[0].total)
          : Promise.resolve(undefined),
      ]),
    );
    const pageRows = rows.slice(0, query.limit);
    const last = pageRows[pageRows.length - 1];
    return {
      items: pageRows.map((row) => this.view(entityOfRow(this.dataSource, OperationEntity, row), null)),
      limit: query.limit,
      offset: query.offset,
      nextCursor: rows.length > query.limit && last ? encodeCursor('newest', last.key, last.id) : null,
      ...(total === undefined ? {} : { total }),
    };
  }

  /** The operation if the principal's tenant owns it or asked for it (one indexed read; /wait and GET run it often). */
  private async find(principal: Principal, id: string): Promise<OperationRecord> {
    const [row] = await this.dataSource.query(
      `SELECT ${this.recordColumns()} FROM operations WHERE id = $1 AND (tenant_id = $2 OR requested_by_tenant_id = $2)`,
      [id, principal.tenantId],
    );
    if (!row) throw notFound('Operation', id);
    return entityOfRow(this.dataSource, OperationEntity, row);
  }

  private async findByIdempotencyKey(tenantId: string, key: string, hash: string): Promise<OperationView | null> {
    const op = await this.operations.findOneBy({ tenantId, idempotencyKey: key });
    if (!op) return null;
    if (op.requestHash !== hash) {
      throw new ApiError(
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key "${key}" was used for a different request (operation ${op.id}); use a new key for a new request`,
        { operationId: op.id },
      );
    }
    return this.view(op, await this.liveProgress(op));
  }

  /** The workflow's own view while it runs; null once the database holds the final word or it cannot answer. */
  private async liveProgress(op: OperationRecord): Promise<OperationProgress | null> {
    if (isTerminalOperationStatus(op.status)) return null;
    try {
      // A workflow whose task is failing never answers; the record in the database is the fallback.
      return await this.temporal.connection.withDeadline(Date.now() + LIVE_PROGRESS_TIMEOUT_MS, () =>
        this.temporal.workflow.getHandle(op.workflowId).query(progressQuery),
      );
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) {
        this.logger.warn(`progress of ${op.workflowId} unavailable: ${err instanceof Error ? err.message : err}`);
      }
      return null;
    }
  }

  private view(op: OperationRecord, live: OperationProgress | null, running: RunningActivity | null = null): OperationView {
    return toOperationView(op, live, { uiUrl: this.config.temporalUiUrl, namespace: this.config.temporalNamespace }, new Date(), running);
  }
}
