import 'reflect-metadata';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '@vmops/config';
import { createDataSource } from '@vmops/persistence';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ensureReconcilerSchedule } from './reconciler-schedule';
import { createVmOpsWorker } from './worker';

const PREBUILT_BUNDLE = path.resolve(__dirname, '../../../workflow-bundle.js');

async function main(): Promise<void> {
  const config = loadConfig();
  const dataSource = await createDataSource({
    databaseUrl: config.databaseUrl,
    poolSize: config.dbPoolSize,
    timeoutMs: config.dbTimeoutMs,
    poolWaitMs: config.dbPoolWaitMs,
  }).initialize();
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  try {
    const bundlePath = process.env.WORKFLOW_BUNDLE_PATH ?? PREBUILT_BUNDLE;
    const worker = await createVmOpsWorker({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.temporalTaskQueue,
      dataSource,
      snapshotLimitPerVm: config.snapshotLimitPerVm,
      maxCachedWorkflows: config.workerMaxCachedWorkflows,
      workflowBundle: existsSync(bundlePath) ? { codePath: bundlePath } : undefined,
    });
    await ensureReconcilerSchedule(
      new Client({ connection, namespace: config.temporalNamespace }),
      config.temporalTaskQueue,
      config.reconcileEverySeconds,
    );
    console.log(
      `worker polling task queue "${config.temporalTaskQueue}" on ${config.temporalAddress}; reconciler every ${config.reconcileEverySeconds} s`,
    );
    // run() resolves once SIGINT/SIGTERM has drained the worker.
    await worker.run();
  } finally {
    await connection.close();
    await dataSource.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
