import { Inject, Injectable } from '@nestjs/common';
import { ActivityFailure, Client, TimeoutFailure, WorkflowFailedError, ApplicationFailure } from '@temporalio/client';
import type { AppConfig } from '@vmops/config';
import { NodeIdKey, type NodeRead, type NodeReadActivity, type NodeReadResult } from '@vmops/contracts';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../common/api-error';
import { APP_CONFIG } from '../config.token';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module';

/**
 * Asks a node's hypervisor something (its audit, a VM's live state, …). The API never calls a driver itself:
 * the read runs as a short workflow whose one activity reaches the node's agent through the node's queue.
 */
@Injectable()
export class NodeReader {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async read<K extends NodeReadActivity>(
    node: { id: string; name: string },
    read: Extract<NodeRead, { activity: K }>,
  ): Promise<NodeReadResult<K>> {
    try {
      return (await this.temporal.workflow.execute('readNodeWorkflow', {
        taskQueue: this.config.temporalTaskQueue,
        workflowId: `node-read-${read.activity}-${node.name}-${randomUUID().slice(0, 8)}`,
        args: [read],
        typedSearchAttributes: [{ key: NodeIdKey, value: node.id }],
        staticSummary: `${read.activity} on ${node.name}`,
        workflowExecutionTimeout: '1 minute',
      })) as NodeReadResult<K>;
    } catch (err) {
      throw this.toApiError(err, node);
    }
  }

  private toApiError(err: unknown, node: { id: string; name: string }): unknown {
    if (!(err instanceof WorkflowFailedError)) return err;
    const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
    if (cause instanceof TimeoutFailure) {
      return new ApiError('NODE_AGENT_UNAVAILABLE', `the agent of node ${node.name} did not answer; is it running?`, {
        nodeId: node.id,
      });
    }
    const type = cause instanceof ApplicationFailure ? cause.type : null;
    if (type === 'DriverInvalidStateError') {
      return new ApiError('NODE_REFUSED', cause!.message, { nodeId: node.id });
    }
    return new ApiError('NODE_READ_FAILED', `node ${node.name} could not answer: ${cause?.message ?? err.message}`, {
      nodeId: node.id,
      driverError: type,
    });
  }
}
