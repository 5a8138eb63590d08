import { DefaultLogger, Runtime } from '@temporalio/worker';
import { BARE_NODE_QUEUE, BARE_QUEUE, startBare } from './bare';
import { freePort } from '../scripts/net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startTemporalDevServer,
  TEMPORAL_DYNAMIC_CONFIG,
  TEMPORAL_SQLITE_PRAGMAS,
  type DynamicConfigValue,
} from '../scripts/temporal-dev-server';
import { percentile, QUICK, report, round } from './support';

/**
 * What the stack's Temporal settings are worth: the same bare workflows (four no-op activities, one of them on a
 * second queue like a node's) on a dev server keeping its state in a file as the stack's does, with the defaults,
 * with the dispatch settings (TEMPORAL_DYNAMIC_CONFIG), and with those and the SQLite settings
 * (TEMPORAL_SQLITE_PRAGMAS): sequential latency and concurrent throughput.
 */
const STEPS = [BARE_QUEUE, BARE_NODE_QUEUE, BARE_QUEUE, BARE_QUEUE];

interface ServerSettings {
  dynamicConfig: Record<string, DynamicConfigValue | null>;
  /** SQLite pragmas of a server with its state in a file, as the stack runs it. */
  sqlitePragmas: Record<string, string>;
}

async function measure(settings: ServerSettings, sequential: number, concurrent: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmops-tuning-'));
  const server = await startTemporalDevServer({ port: await freePort(), dbFile: path.join(dir, 'temporal.sqlite'), ...settings });
  const bare = await startBare(server.address);
  const one = () => bare.run(STEPS);
  try {
    const latencies: number[] = [];
    for (let i = 0; i < sequential + 3; i++) {
      const ms = await one();
      if (i >= 3) latencies.push(ms);
    }
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrent }, one));
    const opsPerSecond = (concurrent / (performance.now() - t0)) * 1000;
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), opsPerSecond };
  } finally {
    await bare.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const sequential = QUICK ? 10 : 100;
  const concurrent = QUICK ? 20 : 200;
  const untuned = Object.fromEntries(Object.keys(TEMPORAL_DYNAMIC_CONFIG).map((k) => [k, null]));
  const defaults = await measure({ dynamicConfig: untuned, sqlitePragmas: {} }, sequential, concurrent);
  const dispatch = await measure({ dynamicConfig: {}, sqlitePragmas: {} }, sequential, concurrent);
  const stack = await measure({ dynamicConfig: {}, sqlitePragmas: { ...TEMPORAL_SQLITE_PRAGMAS } }, sequential, concurrent);
  const row = (what: string, pick: (m: typeof defaults) => number) => ({
    what,
    defaults: round(pick(defaults), 1),
    'dispatch settings': round(pick(dispatch), 1),
    'stack (dispatch + SQLite)': round(pick(stack), 1),
    'stack/defaults': round(pick(stack) / pick(defaults)),
  });
  report(
    'temporal-tuning',
    [
      row('bare 4-step workflow, sequential p50 ms', (m) => m.p50),
      row('bare 4-step workflow, sequential p99 ms', (m) => m.p99),
      row(`${concurrent} concurrent, ops/s`, (m) => m.opsPerSecond),
    ],
    { dynamicConfig: TEMPORAL_DYNAMIC_CONFIG, sqlitePragmas: TEMPORAL_SQLITE_PRAGMAS },
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
