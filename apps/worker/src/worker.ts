import {
  bundleWorkflowCode,
  Worker,
  type NativeConnection,
  type WorkerInterceptors,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { WORKER_MAX_CACHED_WORKFLOWS_DEFAULT } from '@vmops/config';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import {
  createDrainActivities,
  createInventoryActivities,
  createReconcilerActivities,
  createSnapshotScheduleActivities,
} from './activities';

/** The workflows' entry point; resolves to the TypeScript sources under ts-jest and to dist/ when compiled. */
export const WORKFLOWS_PATH = path.resolve(__dirname, '../../../workflows');

export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS_PATH), logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
  log: () => undefined,
};

export interface VmOpsWorkerOptions {
  dataSource: DataSource;
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (production and tests); without one the worker bundles the workflows at start. */
  workflowBundle?: WorkflowBundleWithSourceMap | { codePath: string };
  /** Activity interceptors (tests inject inventory faults this way). */
  interceptors?: WorkerInterceptors;
  /** The most snapshots a VM may have, as the API counts them (SNAPSHOT_LIMIT_PER_VM): scheduled runs hold to it too. */
  snapshotLimitPerVm: number;
  /** WORKER_MAX_CACHED_WORKFLOWS; WORKER_MAX_CACHED_WORKFLOWS_DEFAULT otherwise. */
  maxCachedWorkflows?: number;
}

/**
 * The shared worker: every workflow type, the orchestration (inventory) activities and the reconciler's, on the
 * shared task queue. Driver steps run on the nodes' agents (apps/agent).
 */
export function createVmOpsWorker(options: VmOpsWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, workflowBundle } = options;
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities: {
      ...createInventoryActivities(options.dataSource),
      ...createReconcilerActivities(options.dataSource),
      ...createDrainActivities(options.dataSource),
      ...createSnapshotScheduleActivities(options.dataSource, { snapshotLimitPerVm: options.snapshotLimitPerVm }),
    },
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve(WORKFLOWS_PATH) }),
    maxCachedWorkflows: options.maxCachedWorkflows ?? WORKER_MAX_CACHED_WORKFLOWS_DEFAULT,
    interceptors: options.interceptors,
    shutdownGraceTime: '10 seconds',
  });
}
