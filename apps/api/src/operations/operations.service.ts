import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import {
  isTerminalOperationStatus,
  NodeIdKey,
  OperationTypeKey,
  progressQuery,
  TenantIdKey,
  VmIdKey,
  type JsonObject,
  type OperationProgress,
  type OperationType,
} from '@vmops/contracts';
import type { AppConfig } from '@vmops/config';
import { OperationEntity } from '@vmops/persistence';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, FindOptionsWhere, Repository } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { APP_CONFIG } from '../config.token';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module';
import { toOperationView, type OperationView } from './operation.view';

const LIVE_PROGRESS_TIMEOUT_MS = 2000;
/** A consumer waits this long at most for Temporal to accept a new workflow before getting a 503. */
const START_TIMEOUT_MS = 8000;

export interface Launch<I> {
  principal: Principal;
  type: OperationType;
  /** The workflow function's name, as exported from workflows/index.ts. */
  workflowType: string;
  request: JsonObject;
  /**
   * Runs in the transaction that records the operation: checks and reserves what the operation needs and
   * returns the VM it acts on and the workflow input.
   */
  prepare(tx: EntityManager, operationId: string): Promise<{ vm: { id: string; hostname: string; nodeId: string }; input: I }>;
  /** Undoes `prepare` when the workflow could not be started. */
  abandon(tx: EntityManager, vmId: string): Promise<void>;
}

export interface OperationFilter {
  vmId?: string;
  type?: OperationType;
  status?: OperationEntity['status'];
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

  /** Records an operation and starts its workflow; the caller answers 202 with the result. */
  async launch<I>(launch: Launch<I>): Promise<OperationView> {
    const operationId = randomUUID();
    const { vm, input, workflowId } = await this.dataSource.transaction(async (tx) => {
      const prepared = await launch.prepare(tx, operationId);
      const workflowId = `${launch.type.replace('.', '-')}-${prepared.vm.hostname}-${operationId.slice(0, 8)}`;
      await tx.query(
        `INSERT INTO operations (id, tenant_id, vm_id, type, status, workflow_id, request)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6::jsonb)`,
        [operationId, launch.principal.tenantId, prepared.vm.id, launch.type, workflowId, JSON.stringify(launch.request)],
      );
      return { ...prepared, workflowId };
    });

    try {
      await this.temporal.connection.withDeadline(Date.now() + START_TIMEOUT_MS, () => this.temporal.workflow.start(launch.workflowType, {
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
      }));
    } catch (err) {
      this.logger.error(`could not start ${workflowId}: ${err instanceof Error ? err.message : err}`);
      await this.dataSource.transaction(async (tx) => {
        await launch.abandon(tx, vm.id);
        await tx.update(OperationEntity, { id: operationId }, {
          status: 'failed',
          finishedAt: new Date(),
          error: { code: 'TEMPORAL_UNAVAILABLE', message: 'the workflow could not be started', step: null },
        });
      });
      throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'TEMPORAL_UNAVAILABLE', 'the operation could not be started: the workflow service is unavailable; nothing was created, try again', {
        operationId,
      });
    }
    return this.view(await this.operations.findOneByOrFail({ id: operationId }), null);
  }

  async get(principal: Principal, id: string): Promise<OperationView> {
    const op = await this.operations.findOneBy({ id, tenantId: principal.tenantId });
    if (!op) throw notFound('Operation', id);
    return this.view(op, await this.liveProgress(op));
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
