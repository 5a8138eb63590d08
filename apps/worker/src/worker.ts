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

/**
 * The workflow bundle. Its modules are loaded once, when the worker's V8 context starts, and shared by every workflow
 * (`preloadModules`), instead of being evaluated anew for each workflow the worker holds (the catalogue, the 31
 * plans, libs/contracts): with 10,000 operations in flight and 1,000 cached, the worker held 674 → 542 MiB
 * (`npm run bench:parked -- --size=10000`). Sharing is safe because nothing in workflows/ or what it imports keeps
 * state at module level (../shared/STYLE.md); the SDK freezes the shared modules, so a module that tried would fail
 * in every test rather than leak between workflows.
 */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  const workflowsPath = require.resolve(WORKFLOWS_PATH);
  return bundleWorkflowCode({ workflowsPath, preloadModules: [workflowsPath], logger: quietBundlerLogger });
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
  /**
   * Inventory steps at once, local or not (the SDK's default, 100, unless set: a test of dispatch order keeps it
   * small).
   */
  maxConcurrentActivityTaskExecutions?: number;
}

/**
 * The shared worker: every workflow type, the orchestration (inventory) activities and the reconciler's, on the
 * shared task queue; the operations' inventory steps run here as local activities of their workflows. Driver steps run
 * on the nodes' agents (apps/agent).
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
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions,
    maxConcurrentLocalActivityExecutions: options.maxConcurrentActivityTaskExecutions,
    // A workflow task holds its slot while its local (inventory) steps run: bounded alike, so that a backlog waits in
    // Temporal's queues (dispatched fairly), not in this process's own first-in-first-out ones.
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentActivityTaskExecutions,
    interceptors: options.interceptors,
    shutdownGraceTime: '10 seconds',
  });
}
