import type { INestApplication } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { createApiApp } from '../../apps/api/src/bootstrap';
import type { OperationView } from '../../apps/api/src/operations/operation.view';
import type { AuditDiff } from '../../libs/domain/src';
import { createHarnessDatabase } from './databases';
import { InventoryFaults } from './inventory-faults';
import type { NodeAudit } from '../../libs/driver/src';
import { createNodeAgent, type NodeAgent } from '../../apps/agent/src/agent';
import { createVmOpsWorker } from '../../apps/worker/src/worker';
import { ensureReconcilerSchedule, reconcilerScheduleId } from '../../apps/worker/src/reconciler-schedule';
import { loadConfig, type AppConfig } from '../../libs/config/src';
import { isTerminalOperationStatus } from '../../libs/contracts/src';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from '../../libs/domain/src';
import { SimulatedHypervisor, SimulatorControl } from '../../libs/hypervisor/src';
import type { QemuDriver } from '../../libs/hypervisor/src/qemu';
import { qemuNodes } from './qemu';
import { createDataSource, seedDemo, type SeedResult } from '../../libs/persistence/src';
import { isDryRun, unwrap, type VmopsClient } from '@vmops/client';
import { checkedBody, checkedClient } from './openapi-check';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface Harness {
  config: AppConfig;
  /** The API application itself (a test that plays a dying API reaches into it). */
  app: INestApplication;
  baseUrl: string;
  dataSource: DataSource;
  /** This harness's database (its own, made for it), for a connection of the test's own (a LISTEN, say). */
  databaseUrl: string;
  /** The simulated hypervisor behind this harness's agents (a schema of its own), to look at the world. */
  hypervisor: SimulatedHypervisor;
  /** The QEMU nodes (options.qemuNodes) and their driver; null without them. */
  qemu: { driver: QemuDriver; nodeIds: string[] } | null;
  /** Its faults, latency and call counts. */
  sim: SimulatorControl;
  /** Permanent failures of the worker's inventory activities. */
  inventoryFaults: InventoryFaults;
  /** Clears every injected fault, latency and call count (driver and inventory): each test file's afterEach. */
  resetFaults(): Promise<void>;
  temporal: Client;
  world: SeedResult;
  call<T = any>(
    method: string,
    path: string,
    options?: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  /** The typed client (@vmops/client, generated from openapi.json) with this key; its answers are checked like call's. */
  api(apiKey: string): VmopsClient;
  newTenant(role?: 'member' | 'admin'): Promise<{ tenantId: string; apiKey: string }>;
  waitForOperation(apiKey: string, operationId: string, timeoutMs?: number): Promise<OperationView>;
  /** Creates a VM through the API and waits for it: running unless `start: false`. */
  createVm(
    apiKey: string,
    options?: { start?: boolean; templateId?: string; nodeId?: string },
  ): Promise<{ id: string; hostname: string; nodeId: string }>;
  /** Runs a mutating request to its end: 202 expected, then the finished operation. */
  runOperation(apiKey: string, method: string, path: string, body?: unknown): Promise<OperationView>;
  /** GET /v1/admin/nodes/{id}/audit: what the node holds, diffed against the inventory. */
  auditNode(nodeId: string): Promise<{ diff: AuditDiff; audit: NodeAudit }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** More environment for the API (e.g. SNAPSHOT_LIMIT_PER_VM). */
  env?: Record<string, string>;
  /** Point the API at another Temporal address (e.g. one nobody listens on). */
  temporalAddress?: string;
  /** Run a worker for this harness's task queue (default true). */
  worker?: boolean;
  /** Run, in this process, the agents of these nodes (default: every seeded node); others need an agent process. */
  agentNodes?: (world: SeedResult) => string[];
  /** How long each tenth of a migration's copy takes on the simulated nodes (default 10 ms). */
  transferStepMs?: number;
  /** The in-process agents' slots per node (AGENT_MAX_CALLS / AGENT_MAX_LONG_CALLS); the agent's defaults otherwise. */
  agentSlots?: { maxCalls: number; maxLongCalls: number };
  /** The in-process worker's inventory activities at once; the SDK's default (100) otherwise. */
  workerActivitySlots?: number;
  /** Set up the reconciler's Schedule for this harness's queue, this often (as the worker's main does). */
  reconcileEverySeconds?: number;
  /** Nodes beyond the two seeded ones (node-3, …), served by this harness's agents like them. */
  extraNodes?: number;
  /**
   * Nodes on real QEMU (qemu-1, …; scripts/install-qemu.sh), served by an agent of their own over a QemuDriver, with
   * the seeded template's base image in its store. Nothing is placed on them unless asked by node id.
   */
  qemuNodes?: number;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the integration tests through jest (test/global-setup.ts)`);
  return value;
}

/** The real API (HTTP on a free port) and the real worker, on the run's Temporal server and database. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const database = await createHarnessDatabase(env('VMOPS_TEST_DATABASE'));
  const config = loadConfig({
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: options.temporalAddress ?? env('VMOPS_TEST_TEMPORAL_ADDRESS'),
    // A queue and a simulated world of its own, so that test files never run each other's workflows.
    TEMPORAL_TASK_QUEUE: `vmops-test-${randomUUID().slice(0, 8)}`,
    SIM_SCHEMA: `sim_test_${randomUUID().slice(0, 8)}`,
    DB_POOL_SIZE: '5',
    PORT: '0',
    ...options.env,
  });
  const dataSource = await createDataSource({ databaseUrl: config.databaseUrl, poolSize: 5 }).initialize();
  const world = await seedDemo(dataSource, generateApiKey());
  for (let i = 0; i < (options.extraNodes ?? 0); i++) {
    const [node] = await dataSource.query(
      `INSERT INTO nodes (name, datacenter, status, cpus, memory_mb, storage_gb) VALUES ($1, 'dc1', 'online', 1, 1, 1) RETURNING id`,
      [`node-${world.nodeIds.length + 1}`],
    );
    world.nodeIds.push(node.id);
  }
  const simStore = { databaseUrl: config.simulator.databaseUrl, schema: config.simulator.schema };
  const hypervisor = new SimulatedHypervisor({ ...simStore, guestShutdownMs: 100, transferStepMs: options.transferStepMs ?? 10 });
  const sim = new SimulatorControl(simStore);
  const inventoryFaults = new InventoryFaults();
  // Room for the hundreds of VMs a test file makes (one per saga run), yet finite: 417s stay testable.
  const capacity = { cpus: 4096, memoryMb: 409_600, storageGb: 4000 };
  await dataSource.query(`UPDATE nodes SET cpus = $1, memory_mb = $2, storage_gb = $3`, [
    capacity.cpus,
    capacity.memoryMb,
    capacity.storageGb,
  ]);
  for (const nodeId of world.nodeIds) await sim.registerNode(nodeId, capacity);
  const qemuNodeIds: string[] = [];
  for (let i = 0; i < (options.qemuNodes ?? 0); i++) {
    // Online: placement may choose them too, so a test in such a harness names the node of each VM it creates.
    const [node] = await dataSource.query(
      `INSERT INTO nodes (name, datacenter, status, cpus, memory_mb, storage_gb) VALUES ($1, 'dc-qemu', 'online', 16, 32768, 2000) RETURNING id`,
      [`qemu-${i + 1}`],
    );
    qemuNodeIds.push(node.id);
  }
  const qemu = qemuNodeIds.length
    ? await qemuNodes(qemuNodeIds, { cpus: 16, memoryMb: 32768, storageGb: 2000 }, { templateId: world.templateId, templateGb: 10 })
    : null;

  const temporalConnection = await Connection.connect({ address: env('VMOPS_TEST_TEMPORAL_ADDRESS') });
  const temporal = new Client({ connection: temporalConnection, namespace: config.temporalNamespace });

  let worker: Worker | null = null;
  let workerRun: Promise<void> | null = null;
  let workerConnection: NativeConnection | null = null;
  let agent: NodeAgent | null = null;
  let agentRun: Promise<void> | null = null;
  let qemuAgent: NodeAgent | null = null;
  let qemuAgentRun: Promise<void> | null = null;
  if (options.worker ?? true) {
    workerConnection = await NativeConnection.connect({ address: env('VMOPS_TEST_TEMPORAL_ADDRESS') });
    worker = await createVmOpsWorker({
      snapshotLimitPerVm: config.snapshotLimitPerVm,
      connection: workerConnection,
      namespace: config.temporalNamespace,
      taskQueue: config.temporalTaskQueue,
      dataSource,
      workflowBundle: { codePath: env('VMOPS_TEST_WORKFLOW_BUNDLE') },
      interceptors: { activity: [inventoryFaults.interceptor] },
      maxConcurrentActivityTaskExecutions: options.workerActivitySlots,
    });
    workerRun = worker.run();
    const agentNodes = options.agentNodes ? options.agentNodes(world) : world.nodeIds;
    if (agentNodes.length) {
      agent = await createNodeAgent({
        connection: workerConnection,
        namespace: config.temporalNamespace,
        sharedTaskQueue: config.temporalTaskQueue,
        nodeIds: agentNodes,
        driver: hypervisor,
        ...options.agentSlots,
      });
      agentRun = agent.run();
    }
    if (qemu) {
      qemuAgent = await createNodeAgent({
        connection: workerConnection,
        namespace: config.temporalNamespace,
        sharedTaskQueue: config.temporalTaskQueue,
        nodeIds: qemuNodeIds,
        driver: qemu.driver,
      });
      qemuAgentRun = qemuAgent.run();
    }
  }

  if (options.reconcileEverySeconds) await ensureReconcilerSchedule(temporal, config.temporalTaskQueue, options.reconcileEverySeconds);

  const app: INestApplication = await createApiApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  const call: Harness['call'] = async (method, path, { key, body, rawBody, headers: extra } = {}) => {
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, extra);
    const res = await fetch(baseUrl + path, { method, headers, body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
    const parsed = checkedBody(method, path, res.status, await res.text());
    return { status: res.status, headers: res.headers, body: parsed as any };
  };

  let adminKey: string | undefined;
  let vmCounter = 0;
  const harness: Harness = {
    config,
    app,
    baseUrl,
    dataSource,
    databaseUrl: config.databaseUrl,
    hypervisor,
    qemu: qemu ? { driver: qemu.driver, nodeIds: qemuNodeIds } : null,
    sim,
    inventoryFaults,
    async resetFaults() {
      inventoryFaults.reset();
      await sim.resetControls();
    },
    temporal,
    world,
    call,
    api: (apiKey) => checkedClient(baseUrl, apiKey),
    async newTenant(role = 'member') {
      const apiKey = generateApiKey();
      const [tenant] = await dataSource.query(`INSERT INTO tenants (name) VALUES ($1) RETURNING id`, [`tenant-${randomUUID()}`]);
      await dataSource.query(`INSERT INTO api_keys (tenant_id, name, key_hash, key_prefix, role) VALUES ($1, 'test', $2, $3, $4)`, [
        tenant.id,
        hashApiKey(apiKey),
        apiKeyDisplayPrefix(apiKey),
        role,
      ]);
      return { tenantId: tenant.id, apiKey };
    },
    async waitForOperation(apiKey, operationId, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // As a client waits: the API reads an operation final only once its record is (and its VM free).
        const res = await call<OperationView>('GET', `/v1/operations/${operationId}`, { key: apiKey });
        if (res.status !== 200) throw new Error(`GET operation answered ${res.status}: ${JSON.stringify(res.body)}`);
        if (isTerminalOperationStatus(res.body.status)) return res.body;
        if (Date.now() > deadline) throw new Error(`operation ${operationId} still ${res.body.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async createVm(apiKey, { start = true, templateId = world.templateId, nodeId } = {}) {
      const hostname = `vm-${Date.now().toString(36)}-${(vmCounter++).toString(36)}`;
      const created = await unwrap(
        harness
          .api(apiKey)
          .POST('/v1/vms', { body: { hostname, templateId, cpus: 1, memoryMb: 512, start, ...(nodeId ? { nodeId } : {}) } }),
      );
      if (isDryRun(created)) throw new Error('POST /v1/vms answered a plan');
      const op = await harness.waitForOperation(apiKey, created.id);
      if (op.status !== 'succeeded') throw new Error(`creating ${hostname} ended ${op.status}: ${JSON.stringify(op.error)}`);
      const vm = await unwrap(harness.api(apiKey).GET('/v1/vms/{id}', { params: { path: { id: created.vmId! } } }));
      return { id: vm.id, hostname: vm.hostname, nodeId: vm.nodeId };
    },
    async runOperation(apiKey, method, path, body) {
      const res = await call(method, path, { key: apiKey, body });
      if (res.status !== 202) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return harness.waitForOperation(apiKey, res.body.id, 90_000);
    },
    async auditNode(nodeId) {
      adminKey ??= (await harness.newTenant('admin')).apiKey;
      const audit = await unwrap(harness.api(adminKey).GET('/v1/admin/nodes/{id}/audit', { params: { path: { id: nodeId } } }));
      return audit as unknown as { diff: AuditDiff; audit: NodeAudit };
    },
    async close() {
      if (options.reconcileEverySeconds) await temporal.schedule.getHandle(reconcilerScheduleId(config.temporalTaskQueue)).delete();
      await app.close();
      agent?.shutdown();
      qemuAgent?.shutdown();
      await agentRun;
      await qemuAgentRun;
      await qemu?.close();
      if (worker) {
        worker.shutdown();
        await workerRun;
      }
      await workerConnection?.close();
      await temporalConnection.close();
      await hypervisor.close();
      await sim.close();
      await dataSource.destroy();
      await database.drop();
    },
  };
  return harness;
}
