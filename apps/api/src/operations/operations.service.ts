import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import {
  isTerminalOperationStatus,
  NodeIdKey,
  OPERATION_DEADLINE_SECONDS,
  pendingSteps,
  OperationTypeKey,
  progressQuery,
  TenantIdKey,
  VmIdKey,
  type JsonObject,
  type OperationPlan,
  type OperationProgress,
  type OperationType,
} from '@vmops/contracts';
import type { AppConfig } from '@vmops/config';
import { OperationEntity } from '@vmops/persistence';
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager, FindOptionsWhere, Repository } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { APP_CONFIG } from '../config.token';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module';
import { toOperationView, type OperationView } from './operation.view';

const LIVE_PROGRESS_TIMEOUT_MS = 2000;
/** A consumer waits this long at most for Temporal to accept a new workflow before getting a 503. */
const START_TIMEOUT_MS = 8000;
const WAIT_POLL_MS = 250;

/** How the caller asked for a mutation: the Idempotency-Key header and ?dryRun. */
export interface MutationOptions {
  idempotencyKey?: string;
  dryRun: boolean;
}

export interface Launch<I> {
  principal: Principal;
  type: OperationType;
  /** The workflow function's name, as exported from workflows/index.ts. */
  workflowType: string;
  /** The request as accepted, target included: stored, and hashed for Idempotency-Key. */
  request: JsonObject;
  /**
   * Runs in the transaction that records the operation: checks and reserves what the operation needs (the
   * VM lock, capacity) and returns the VM it acts on and the workflow input. Throws the 4xx that applies.
   */
  prepare(tx: EntityManager, operationId: string): Promise<{ vm: { id: string; hostname: string; nodeId: string }; input: I }>;
  /** The plan the workflow will run for this input (the same pure function the workflow calls). */
  plan(input: I): OperationPlan;
  /** Undoes `prepare` when the workflow could not be started. */
  abandon(tx: EntityManager, vmId: string, operationId: string): Promise<void>;
}

export interface DryRunView {
  dryRun: true;
  type: OperationType;
  vmId: string;
  /** `commit`: the point of no return; a failure after it is not undone. */
  steps: { name: string; activity: string; summary: string; undo: string | null; undoActivity: string | null; commit: boolean }[];
  afterCompensation: string | null;
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

function requestHash(type: OperationType, request: JsonObject): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
        : value;
  return createHash('sha256').update(JSON.stringify({ type, request: canonical(request) })).digest('hex');
}

@Injectable()
export class OperationsService {
  private readonly logger = new Logger(OperationsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(OperationEntity) private readonly operations: Repository<OperationEntity>,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Records an operation and starts its workflow — or replays the one its Idempotency-Key names, or only plans it. */
  async launch<I>(launch: Launch<I>, options: MutationOptions): Promise<LaunchResult> {
    const hash = requestHash(launch.type, launch.request);
    if (options.idempotencyKey && !options.dryRun) {
      const replay = await this.findByIdempotencyKey(launch.principal, options.idempotencyKey, hash);
      if (replay) return { kind: 'replayed', operation: replay };
    }

    const operationId = randomUUID();
    let started: { vm: { id: string; hostname: string; nodeId: string }; input: I; workflowId: string };
    try {
      started = await this.dataSource.transaction(async (tx) => {
        const prepared = await launch.prepare(tx, operationId);
        const plan = launch.plan(prepared.input);
        if (options.dryRun) {
          throw new DryRunRollback({
            dryRun: true,
            type: launch.type,
            vmId: prepared.vm.id,
            steps: plan.steps.map((s) => ({
              name: s.name,
              activity: s.do.activity,
              summary: s.do.summary,
              undo: s.undo?.summary ?? null,
              undoActivity: s.undo?.activity ?? null,
              commit: s.commit ?? false,
            })),
            afterCompensation: plan.afterCompensation?.summary ?? null,
          });
        }
        const workflowId = `${launch.type.replace('.', '-')}-${prepared.vm.hostname}-${operationId.slice(0, 8)}`;
        await tx.query(
          `INSERT INTO operations (id, tenant_id, vm_id, type, status, workflow_id, request, steps, idempotency_key, request_hash, deadline_at)
           VALUES ($1, $2, $3, $4, 'pending', $5, $6::jsonb, $7::jsonb, $8, $9, now() + make_interval(secs => $10))`,
          [
            operationId,
            launch.principal.tenantId,
            prepared.vm.id,
            launch.type,
            workflowId,
            JSON.stringify(launch.request),
            JSON.stringify(pendingSteps(plan)),
            options.idempotencyKey ?? null,
            hash,
            OPERATION_DEADLINE_SECONDS[launch.type],
          ],
        );
        return { ...prepared, workflowId };
      });
    } catch (err) {
      if (err instanceof DryRunRollback) return { kind: 'dryRun', plan: err.plan };
      // Two requests with one key at once: the loser answers with the winner's operation.
      if (options.idempotencyKey && (err as { driverError?: { constraint?: string } }).driverError?.constraint === 'uq_operations_tenant_idempotency_key') {
        const replay = await this.findByIdempotencyKey(launch.principal, options.idempotencyKey, hash);
        if (replay) return { kind: 'replayed', operation: replay };
      }
      throw err;
    }

    const { vm, input, workflowId } = started;
    try {
      await this.temporal.connection.withDeadline(Date.now() + START_TIMEOUT_MS, () =>
        this.temporal.workflow.start(launch.workflowType, {
          taskQueue: this.config.temporalTaskQueue,
          workflowId,
          args: [input],
          typedSearchAttributes: [
            { key: VmIdKey, value: vm.id },
            { key: TenantIdKey, value: launch.principal.tenantId },
            { key: NodeIdKey, value: vm.nodeId },
            { key: OperationTypeKey, value: launch.type },
          ],
          staticSummary: `${launch.type} ${vm.hostname}`,
          staticDetails: `operation ${operationId}\nVM ${vm.hostname} (${vm.id})\ntenant ${launch.principal.tenantId}\nnode ${vm.nodeId}`,
        }),
      );
    } catch (err) {
      this.logger.error(`could not start ${workflowId}: ${err instanceof Error ? err.message : err}`);
      await this.dataSource.transaction(async (tx) => {
        await launch.abandon(tx, vm.id, operationId);
        await tx.update(OperationEntity, { id: operationId }, {
          status: 'failed',
          finishedAt: new Date(),
          error: { code: 'TEMPORAL_UNAVAILABLE', message: 'the workflow could not be started', step: null },
        });
      });
      throw new ApiError(
        HttpStatus.SERVICE_UNAVAILABLE,
        'TEMPORAL_UNAVAILABLE',
        'the operation could not be started: the workflow service is unavailable; nothing was changed, try again',
        { operationId },
      );
    }
    return { kind: 'started', operation: this.view(await this.operations.findOneByOrFail({ id: operationId }), null) };
  }

  async get(principal: Principal, id: string): Promise<OperationView> {
    const op = await this.find(principal, id);
    return this.view(op, await this.liveProgress(op));
  }

  /** Long-poll: answers as soon as the operation is final in the database, or after timeoutSeconds with its state then. */
  async wait(principal: Principal, id: string, timeoutSeconds: number): Promise<OperationView> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    let op = await this.find(principal, id);
    while (!isTerminalOperationStatus(op.status) && Date.now() < deadline) {
      await sleep(Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now())));
      op = await this.find(principal, id);
    }
    return this.view(op, await this.liveProgress(op));
  }

  /** Asks the workflow to stop; it undoes what it did and ends `cancelled`. */
  async cancel(principal: Principal, id: string): Promise<OperationView> {
    const op = await this.find(principal, id);
    if (isTerminalOperationStatus(op.status)) {
      throw new ApiError(HttpStatus.CONFLICT, 'OPERATION_FINISHED', `operation ${id} has already ${op.status}; there is nothing to cancel`, {
        operationId: id,
        status: op.status,
      });
    }
    try {
      await this.temporal.workflow.getHandle(op.workflowId).cancel();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new ApiError(HttpStatus.CONFLICT, 'OPERATION_FINISHED', `operation ${id} is no longer running`, { operationId: id });
      }
      throw err;
    }
    await this.dataSource.query(`UPDATE operations SET status = 'cancelling', updated_at = now() WHERE id = $1 AND finished_at IS NULL`, [id]);
    return this.get(principal, id);
  }

  async list(principal: Principal, filter: OperationFilter, page: { limit: number; offset: number }) {
    const where: FindOptionsWhere<OperationEntity> = { tenantId: principal.tenantId };
    if (filter.vmId) where.vmId = filter.vmId;
    if (filter.type) where.type = filter.type;
    if (filter.status) where.status = filter.status;
    const [rows, total] = await this.operations.findAndCount({
      where,
      order: { createdAt: 'DESC', id: 'DESC' },
      take: page.limit,
      skip: page.offset,
    });
    return { items: rows.map((op) => this.view(op, null)), total, ...page };
  }

  private async find(principal: Principal, id: string): Promise<OperationEntity> {
    const op = await this.operations.findOneBy({ id, tenantId: principal.tenantId });
    if (!op) throw notFound('Operation', id);
    return op;
  }

  private async findByIdempotencyKey(principal: Principal, key: string, hash: string): Promise<OperationView | null> {
    const op = await this.operations.findOneBy({ tenantId: principal.tenantId, idempotencyKey: key });
    if (!op) return null;
    if (op.requestHash !== hash) {
      throw new ApiError(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key "${key}" was used for a different request (operation ${op.id}); use a new key for a new request`,
        { operationId: op.id },
      );
    }
    return this.view(op, await this.liveProgress(op));
  }

  /** The workflow's own view while it runs; null once the database holds the final word or it cannot answer. */
  private async liveProgress(op: OperationEntity): Promise<OperationProgress | null> {
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

  private view(op: OperationEntity, live: OperationProgress | null): OperationView {
    return toOperationView(op, live, { uiUrl: this.config.temporalUiUrl, namespace: this.config.temporalNamespace });
  }
}
