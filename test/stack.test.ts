import { Client, Connection } from '@temporalio/client';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { followOperation, operationEvents, started, unwrap, type Operation, type OperationEvent } from '@vmops/client';
import { randomUUID } from 'node:crypto';
import {
  apiClient,
  killStack,
  stackDataDir,
  stackEnv,
  startStack,
  stopStack,
  type Reply,
  type StackProcess,
} from './support/stack-process';
import { Terminal } from './support/terminal';
import { freePort } from '../scripts/net';

/**
 * The README's stack, as a user runs it (after scripts/install.sh built dist/) with nothing set: the embedded
 * PostgreSQL server, the Temporal dev server with its UI, migrations, seed, worker, agents and API. Tried as
 * users meet it: two tenants at once under concurrent traffic, every path of the API document probed with the
 * other tenant's ids, and a restart after Ctrl-C and after a SIGKILL of everything.
 */
const DEMO_API_KEY = 'vmo_stack-test-key-0000000000000000';

/** Whether something accepts connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the stack as the README starts it (embedded PostgreSQL)', () => {
  const dataDir = stackDataDir('vmops-stack-');
  let env: NodeJS.ProcessEnv;
  let stack: StackProcess | null = null;

  beforeAll(async () => {
    env = await stackEnv(dataDir, { DEMO_API_KEY, SIM_LATENCY_MS: '0', DB_TIMEOUT_MS: '3000' });
    stack = await startStack(env);
  });
  afterAll(async () => {
    if (stack) await stopStack(stack);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const { call, waitFor, typed } = apiClient(() => env.PORT);

  const templateId = async (key: string) => (await call(key, 'GET', '/v1/templates')).body.items[0].id as string;

  const createVm = async (key: string, hostname: string) => {
    const res = await call(key, 'POST', '/v1/vms', { hostname, templateId: await templateId(key), cpus: 1, memoryMb: 512 });
    expect(res.status).toBe(202);
    expect((await waitFor(key, res.body.id)).status).toBe('succeeded');
    return { id: res.body.vmId as string, operationId: res.body.id as string };
  };

  /** A tenant's world for the probes: VMs, a disk, a snapshot, an operation, an API key. */
  interface TenantWorld {
    name: string;
    key: string;
    quietVm: string;
    busyVm: string;
    diskId: string;
    snapshot: string;
    operationId: string;
    apiKeyId: string;
    nicId: string;
    groupId: string;
    templateId: string;
  }
  const tenants: TenantWorld[] = [];

  it('starts on the embedded PostgreSQL and serves the tour', async () => {
    const output = stack!.output();
    expect(output).toContain(`Demo API key ${DEMO_API_KEY}`);
    expect(output).toMatch(/Database\s+postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres \(embedded PostgreSQL/);
    expect(output).toMatch(/PostgreSQL ready on 127\.0\.0\.1:\d+ in \d+ ms/);

    const nodes = await call(stack!.adminKey(), 'GET', '/v1/nodes');
    expect(nodes.body.items[0]).toMatchObject({ name: 'node-1', capacity: expect.any(Object) });
    expect((await fetch(`http://127.0.0.1:${env.PORT}/health`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${env.PORT}/docs`)).status).toBe(200);
    expect((await call(DEMO_API_KEY, 'GET', '/v1/templates')).body.items).toEqual([expect.objectContaining({ name: 'debian-12' })]);

    // Two tenants of the stack: demo (member key) and operator (admin key), each with a world of its own.
    for (const [name, key] of [
      ['demo', DEMO_API_KEY],
      ['operator', stack!.adminKey()],
    ] as const) {
      const quiet = await createVm(key, `${name}-quiet`);
      const busy = await createVm(key, `${name}-busy`);
      const disk = await call(key, 'POST', `/v1/vms/${quiet.id}/disks`, { sizeGb: 5 });
      expect(disk.status).toBe(202);
      expect((await waitFor(key, disk.body.id)).status).toBe('succeeded');
      const disks = await call(key, 'GET', `/v1/vms/${quiet.id}/disks`);
      const snapshot = await call(key, 'POST', `/v1/vms/${quiet.id}/snapshots`, { name: `${name}-snap` });
      expect(snapshot.status).toBe(202);
      expect((await waitFor(key, snapshot.body.id)).status).toBe('succeeded');
      const apiKey = await call(key, 'POST', '/v1/api-keys', { name: 'probe' });
      expect(apiKey.status).toBe(201);
      const group = await call(key, 'POST', '/v1/anti-affinity-groups', { name: `${name}-group`, vmIds: [quiet.id] });
      expect(group.status).toBe(201);
      const template = await call(key, 'POST', '/v1/templates', { name: `${name}-golden`, vmId: quiet.id, fsfreeze: true });
      expect(template.status).toBe(202);
      expect((await waitFor(key, template.body.id)).status).toBe('succeeded');
      const [templateRow] = (await call(key, 'GET', '/v1/templates')).body.items.filter(
        (t: { name: string }) => t.name === `${name}-golden`,
      );
      tenants.push({
        name,
        key,
        quietVm: quiet.id,
        busyVm: busy.id,
        diskId: disks.body.items.find((d: { position: number }) => d.position > 0).id,
        snapshot: `${name}-snap`,
        operationId: quiet.operationId,
        apiKeyId: apiKey.body.id,
        nicId: (await call(key, 'GET', `/v1/vms/${quiet.id}/interfaces`)).body.items[0].id,
        groupId: group.body.id,
        templateId: templateRow.id,
      });
    }
  });

  it('two tenants, 2 × 280 concurrent mixed requests: no 5xx, no 401 for a valid key, no cross-tenant read, one winner per conflict', async () => {
    expect(tenants).toHaveLength(2);
    const madeUp = () => `vmo_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    const node = (await call(stack!.adminKey(), 'GET', '/v1/nodes')).body.items[0].id;
    const tally: Record<string, number> = {};

    for (const round of ['stop', 'start']) {
      type Probe = { label: string; run: () => Promise<Reply>; check: (r: Reply) => boolean; conflict?: string };
      const probes: Probe[] = [];
      const times = (n: number, probe: Probe) => probes.push(...Array.from({ length: n }, () => probe));
      for (const [self, other] of [
        [tenants[0], tenants[1]],
        [tenants[1], tenants[0]],
      ]) {
        const own = new Set([self.quietVm, self.busyVm]);
        times(20, {
          label: 'own VM',
          run: () => call(self.key, 'GET', `/v1/vms/${self.quietVm}`),
          check: (r) => r.status === 200 && r.body.id === self.quietVm,
        });
        times(25, {
          label: "other tenant's VM",
          run: () => call(self.key, 'GET', `/v1/vms/${other.quietVm}`),
          check: (r) => r.status === 404,
        });
        times(15, {
          label: 'VM list',
          run: () => call(self.key, 'GET', '/v1/vms'),
          check: (r) => r.status === 200 && r.body.items.length === 2 && r.body.items.every((v: { id: string }) => own.has(v.id)),
        });
        times(15, {
          label: 'own dry run',
          run: () => call(self.key, 'POST', `/v1/vms/${self.quietVm}/reboot?dryRun=true`, {}),
          check: (r) => r.status === 200 && r.body.dryRun === true,
        });
        times(15, {
          label: "other tenant's dry run",
          run: () => call(self.key, 'POST', `/v1/vms/${other.quietVm}/reboot?dryRun=true`, {}),
          check: (r) => r.status === 404,
        });
        times(10, {
          label: 'own operation',
          run: () => call(self.key, 'GET', `/v1/operations/${self.operationId}`),
          check: (r) => r.status === 200 && r.body.id === self.operationId,
        });
        times(10, {
          label: "other tenant's operation",
          run: () => call(self.key, 'GET', `/v1/operations/${other.operationId}`),
          check: (r) => r.status === 404,
        });
        times(10, {
          label: "other tenant's snapshot",
          run: () => call(self.key, 'GET', `/v1/vms/${other.quietVm}/snapshots/${other.snapshot}`),
          check: (r) => r.status === 404,
        });
        times(15, {
          label: 'conflicting mutation',
          run: () => call(self.key, 'POST', `/v1/vms/${self.busyVm}/${round}`, {}),
          // The loser sees the winner busy, or (when the winner already finished) the VM in the state it left.
          check: (r) =>
            r.status === 202 ||
            (r.status === 409 && r.body.error.code === 'VM_BUSY') ||
            (r.status === 423 && r.body.error.code === 'VM_INVALID_STATE'),
          conflict: self.busyVm,
        });
        times(10, {
          label: 'made-up key, admin path',
          run: () => call(madeUp(), 'GET', `/v1/admin/nodes/${node}/audit`),
          check: (r) => r.status === 401,
        });
        times(10, { label: 'made-up key, VM list', run: () => call(madeUp(), 'GET', '/v1/vms'), check: (r) => r.status === 401 });
        times(5, {
          label: 'member key, admin path',
          run: () => call(DEMO_API_KEY, 'GET', `/v1/admin/nodes/${node}/audit`),
          check: (r) => r.status === 403,
        });
      }
      for (let i = probes.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [probes[i], probes[j]] = [probes[j], probes[i]];
      }
      expect(probes.length).toBeGreaterThanOrEqual(200);

      const replies = await Promise.all(probes.map((p) => p.run().catch((err: Error) => ({ status: 0, body: err.message }))));
      const wrong = replies.flatMap((r, i) =>
        probes[i].check(r) ? [] : [`${probes[i].label}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`],
      );
      for (const r of replies) tally[r.status] = (tally[r.status] ?? 0) + 1;
      expect(wrong).toEqual([]);
      expect(replies.filter((r) => r.status >= 500 || r.status === 0)).toEqual([]);

      // Exactly one accepted mutation per contested VM; it runs to its end.
      for (const t of tenants) {
        const accepted = replies.filter((r, i) => probes[i].conflict === t.busyVm && r.status === 202);
        expect(accepted).toHaveLength(1);
        expect((await waitFor(t.key, accepted[0].body.id)).status).toBe('succeeded');
      }
    }
    console.log(`stack concurrency: statuses seen ${JSON.stringify(tally)}`);
  });

  it("migrates VMs between the two nodes' agents (live, cold, two-phase) and drains a node", async () => {
    const temporal = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${env.TEMPORAL_PORT}` }) });
    const measure = async (label: string, key: string, operationId: string) => {
      const op = (await call(key, 'GET', `/v1/operations/${operationId}`)).body;
      const workflowId = decodeURIComponent(new URL(op.links.temporalUi).pathname.split('/').pop()!);
      const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
      const seconds = (Date.parse(op.finishedAt) - Date.parse(op.createdAt)) / 1000;
      console.log(`stack ${label}: ${op.status} in ${seconds.toFixed(1)} s, ${history.events?.length} history events`);
      return op;
    };
    try {
      const [demo] = tenants;
      const vm = (await call(demo.key, 'GET', `/v1/vms/${demo.busyVm}`)).body;
      const check = await call(demo.key, 'GET', `/v1/vms/${vm.id}/migration-check`);
      expect(check.body).toMatchObject({ canMigrate: true, mode: 'live' });
      const target = check.body.placementChoice;
      expect(target).not.toBe(vm.nodeId);

      const live = await call(demo.key, 'POST', `/v1/vms/${vm.id}/migrate`, {});
      expect(live.status).toBe(202);
      expect((await waitFor(demo.key, live.body.id)).status).toBe('succeeded');
      await measure('live migration', demo.key, live.body.id);
      expect((await call(demo.key, 'GET', `/v1/vms/${vm.id}`)).body.nodeId).toBe(target);

      const cold = await call(demo.key, 'POST', `/v1/vms/${vm.id}/migrate`, { mode: 'cold', targetNodeId: vm.nodeId });
      expect(cold.status).toBe(202);
      expect((await waitFor(demo.key, cold.body.id)).status).toBe('succeeded');
      await measure('cold migration', demo.key, cold.body.id);
      expect((await call(demo.key, 'GET', `/v1/vms/${vm.id}`)).body).toMatchObject({ nodeId: vm.nodeId, status: 'running' });

      const twoPhase = await call(demo.key, 'POST', `/v1/vms/${vm.id}/migrate`, { finalize: false });
      for (let i = 0; i < 200 && !(await call(demo.key, 'GET', `/v1/operations/${twoPhase.body.id}`)).body.waiting; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect((await call(demo.key, 'POST', `/v1/operations/${twoPhase.body.id}/finalize`)).status).toBe(200);
      expect((await waitFor(demo.key, twoPhase.body.id)).status).toBe('succeeded');

      // The operator empties the node the demo VM is on now; every VM of both tenants leaves it.
      const admin = stack!.adminKey();
      const drained = target;
      const drain = await call(admin, 'POST', `/v1/admin/nodes/${drained}/drain`, { concurrency: 2 });
      expect(drain.status).toBe(202);
      const done = await waitFor(admin, drain.body.id);
      expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: null });
      await measure(`drain of ${done.steps.length} VM(s)`, admin, drain.body.id);
      for (const t of tenants) {
        for (const id of [t.quietVm, t.busyVm]) expect((await call(t.key, 'GET', `/v1/vms/${id}`)).body.nodeId).not.toBe(drained);
      }
      for (const node of (await call(admin, 'GET', '/v1/nodes')).body.items) {
        expect((await call(admin, 'GET', `/v1/admin/nodes/${node.id}/audit`)).body.diff).toMatchObject({ clean: true });
      }
      expect((await call(admin, 'PATCH', `/v1/nodes/${drained}`, { status: 'online' })).status).toBe(200);
    } finally {
      await temporal.connection.close();
    }
  });

  it("tenancy sweep: every path of the API document refuses another tenant's ids (404) and a missing or made-up key (401)", async () => {
    const doc = (await call(null, 'GET', '/docs-json')).body;
    const [self, other] = tenants;

    // The other tenant's id for each kind of path parameter, by the resource the path is under.
    const otherIds: Record<string, Record<string, string>> = {
      vms: { id: other.quietVm, diskId: other.diskId, name: other.snapshot, nicId: other.nicId },
      'anti-affinity-groups': { id: other.groupId, vmId: other.quietVm },
      templates: { id: other.templateId },
      operations: { id: other.operationId },
      'api-keys': { id: other.apiKeyId },
    };
    const ownIds: Record<string, string> = { id: self.quietVm };
    const exampleOf = (schema: any): unknown => {
      if (schema.$ref) return exampleOf(doc.components.schemas[schema.$ref.split('/').pop()]);
      if (schema.example !== undefined) return schema.example;
      if (schema.enum) return schema.enum[0];
      switch (schema.type) {
        case 'object':
          return Object.fromEntries((schema.required ?? []).map((k: string) => [k, exampleOf(schema.properties[k])]));
        case 'number':
        case 'integer':
          return schema.minimum ?? 1;
        case 'boolean':
          return false;
        case 'array':
          return [];
        default:
          return schema.format === 'uuid' ? '00000000-0000-4000-8000-000000000000' : 'probe';
      }
    };

    const problems: string[] = [];
    let probed = 0;
    for (const [template, methods] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(methods)) {
        const secured = (op.security ?? doc.security ?? []).length > 0;
        const schema = op.requestBody?.content?.['application/json']?.schema;
        const body = schema ? exampleOf(schema) : undefined;
        const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const anyIds = Object.fromEntries(params.map((p) => [p, '00000000-0000-4000-8000-000000000000']));
        // Required query parameters get an example value, so that validation does not answer before the lookup.
        const query = new URLSearchParams(
          (op.parameters ?? [])
            .filter((p: any) => p.in === 'query' && p.required)
            .map((p: any) => [p.name, String(p.schema?.type === 'array' ? exampleOf(p.schema.items) : exampleOf(p.schema ?? {}))]),
        ).toString();
        const fill = (ids: Record<string, string>) =>
          template.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(ids[p])) + (query ? `?${query}` : '');

        if (secured) {
          for (const key of [null, 'vmo_made-up-key-0000000000000000000']) {
            const r = await call(key, method.toUpperCase(), fill(anyIds), body);
            probed++;
            if (r.status !== 401) problems.push(`${method.toUpperCase()} ${template} with ${key ? 'a made-up' : 'no'} key: ${r.status}`);
          }
        }
        // Tenant-owned resources: /v1/admin/* acts across tenants by design, nodes and templates are shared.
        const resource = template.split('/')[2];
        if (!params.length || template.startsWith('/v1/admin/') || resource === 'nodes') continue;
        const ids = otherIds[resource];
        if (!ids || params.some((p) => !ids[p])) {
          problems.push(`${template}: the sweep knows no id of the other tenant for it; add one to otherIds`);
          continue;
        }
        const attempts = [ids];
        // The tenant's own VM with the other tenant's disk or snapshot.
        if (resource === 'vms' && params.length > 1) attempts.push({ ...ids, ...ownIds });
        for (const attempt of attempts) {
          const r = await call(self.key, method.toUpperCase(), fill(attempt), body);
          probed++;
          if (r.status !== 404)
            problems.push(`${method.toUpperCase()} ${fill(attempt)}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(probed).toBeGreaterThan(80);
    console.log(`tenancy sweep: ${probed} requests over ${Object.keys(doc.paths).length} paths, none answered otherwise than 401 / 404`);
    // Nothing the probes sent changed the other tenant's world.
    const vm = await call(other.key, 'GET', `/v1/vms/${other.quietVm}`);
    expect(vm.body).toMatchObject({ status: 'running', currentOperationId: null });
    expect((await call(other.key, 'GET', `/v1/vms/${other.quietVm}/snapshots/${other.snapshot}`)).status).toBe(200);
    expect(
      (await call(other.key, 'GET', '/v1/api-keys')).body.items.map((k: { id: string; revokedAt: string | null }) => [k.id, k.revokedAt]),
    ).toContainEqual([other.apiKeyId, null]);
  });

  it('starts the worker, an agent and the API again when they are SIGKILLed; the operation in flight finishes', async () => {
    const admin = stack!.adminKey();
    /** The pid of the stack's child running `script` (its command line names it). */
    const childPid = (script: string): number => {
      const pids = readFileSync(`/proc/${stack!.proc.pid}/task/${stack!.proc.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      const pid = pids.find((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(script);
        } catch {
          return false;
        }
      });
      if (!pid) throw new Error(`the stack runs no ${script}`);
      return pid;
    };
    expect((await call(admin, 'PUT', '/v1/admin/simulator/latency', { method: 'defineVm', ms: 4000 })).status).toBe(200);
    const created = await call(DEMO_API_KEY, 'POST', '/v1/vms', {
      hostname: 'through-crashes',
      templateId: await templateId(DEMO_API_KEY),
      cpus: 1,
      memoryMb: 512,
    });
    expect(created.status).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    const killed = ['apps/worker/src/main.js', 'apps/agent/src/main.js', 'apps/api/src/main.js'].map((script) => {
      const pid = childPid(script);
      process.kill(pid, 'SIGKILL');
      return pid;
    });
    // The stack itself keeps running, and brings each back: the API answers again, with new processes.
    let healthy = false;
    for (let i = 0; i < 120 && !healthy; i++) {
      await new Promise((r) => setTimeout(r, 250));
      healthy = await fetch(`http://127.0.0.1:${env.PORT}/health`).then(
        (r) => r.ok,
        () => false,
      );
    }
    expect(healthy).toBe(true);
    expect(stack!.proc.exitCode).toBeNull();
    for (const [i, script] of ['apps/worker/src/main.js', 'apps/agent/src/main.js', 'apps/api/src/main.js'].entries())
      expect(childPid(script)).not.toBe(killed[i]);
    expect(stack!.output()).toMatch(/\[worker\]\s+exited unexpectedly \(SIGKILL\); restarting it in 1 s/);
    expect(stack!.output()).toMatch(/\[api\]\s+exited unexpectedly \(SIGKILL\); restarting it in 1 s/);
    await call(admin, 'DELETE', '/v1/admin/simulator/latency');
    expect((await waitFor(DEMO_API_KEY, created.body.id)).status).toBe('succeeded');
    const deleted = await call(DEMO_API_KEY, 'DELETE', `/v1/vms/${created.body.vmId}`);
    expect((await waitFor(DEMO_API_KEY, deleted.body.id)).status).toBe('succeeded');
  });

  it('starts Temporal and PostgreSQL again when they are SIGKILLed; the operation in flight finishes, once', async () => {
    const admin = stack!.adminKey();
    const childrenOf = (pid: number) =>
      readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const cmdline = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    const healthy = async (timeoutMs: number) => {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
        if (
          await fetch(`http://127.0.0.1:${env.PORT}/health`).then(
            (r) => r.ok,
            () => false,
          )
        )
          return true;
      }
      return false;
    };
    expect((await call(admin, 'PUT', '/v1/admin/simulator/latency', { method: 'defineVm', ms: 3000 })).status).toBe(200);
    const created = await call(DEMO_API_KEY, 'POST', '/v1/vms', {
      hostname: 'through-outages',
      templateId: await templateId(DEMO_API_KEY),
      cpus: 1,
      memoryMb: 512,
    });
    expect(created.status).toBe(202);
    await new Promise((r) => setTimeout(r, 1000));

    // Temporal: the CLI itself (under the wrapper that ties it to the stack), as a crash would end it.
    const wrapper = childrenOf(stack!.proc.pid!).find((pid) => cmdline(pid).includes('with-parent.mjs'))!;
    const cli = childrenOf(wrapper).find((pid) => cmdline(pid).includes('start-dev'))!;
    process.kill(cli, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    expect(await healthy(60_000)).toBe(true);

    // PostgreSQL: the postmaster; its backends end with it. Meanwhile the API answers 503, never 500.
    const postmaster = Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    const during = await Promise.all(Array.from({ length: 5 }, () => call(DEMO_API_KEY, 'GET', '/v1/vms').then((r) => r.status)));
    expect(during.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(await healthy(60_000)).toBe(true);

    expect(stack!.output()).toMatch(/\[temporal\]\s+exited unexpectedly \(code \d+\); restarting it in 1 s/);
    expect(stack!.output()).toMatch(/\[postgres\]\s+exited unexpectedly \(code \d+\); restarting it in 1 s/);
    await call(admin, 'DELETE', '/v1/admin/simulator/latency');
    const op = await waitFor(DEMO_API_KEY, created.body.id);
    expect({ status: op.status, error: op.error }).toEqual({ status: 'succeeded', error: null });
    // Nothing was done twice: one VM of that name, one operation for it, and the nodes hold what the inventory says.
    const vms = (await call(DEMO_API_KEY, 'GET', '/v1/vms?hostname=through-outages')).body.items;
    expect(vms).toHaveLength(1);
    expect((await call(DEMO_API_KEY, 'GET', `/v1/vms/${vms[0].id}/operations`)).body.items).toHaveLength(1);
    for (const node of (await call(admin, 'GET', '/v1/nodes')).body.items) {
      expect((await call(admin, 'GET', `/v1/admin/nodes/${node.id}/audit`)).body.diff).toMatchObject({ clean: true });
    }
    const deleted = await call(DEMO_API_KEY, 'DELETE', `/v1/vms/${vms[0].id}`);
    expect((await waitFor(DEMO_API_KEY, deleted.body.id)).status).toBe('succeeded');
  });

  it('with its database stalled, answers 503 DATABASE_UNAVAILABLE within seconds, and serves again once it is back', async () => {
    // The embedded server and its backends (each in a process group of its own) stop answering, as a hung host would.
    const postmaster = Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const backends = readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    const signal = (sig: NodeJS.Signals) => {
      for (const pid of [postmaster, ...backends]) {
        try {
          process.kill(pid, sig);
        } catch {
          // a backend that ended meanwhile
        }
      }
    };
    signal('SIGSTOP');
    try {
      const started = Date.now();
      const templates = await call(DEMO_API_KEY, 'GET', '/v1/vms');
      const seconds = (Date.now() - started) / 1000;
      expect({ status: templates.status, code: templates.body.error?.code }).toEqual({ status: 503, code: 'DATABASE_UNAVAILABLE' });
      expect(seconds).toBeLessThan(10);
      const health = await fetch(`http://127.0.0.1:${env.PORT}/health`);
      expect(health.status).toBe(503);
      expect(JSON.stringify(await health.json())).toContain('database');
      console.log(`stack with its database stalled: 503 DATABASE_UNAVAILABLE in ${seconds.toFixed(1)} s`);
    } finally {
      signal('SIGCONT');
    }
    let back = 0;
    for (let i = 0; i < 60 && back !== 200; i++) {
      back = (await call(DEMO_API_KEY, 'GET', '/v1/vms')).status;
      if (back !== 200) await new Promise((r) => setTimeout(r, 500));
    }
    expect(back).toBe(200);
    expect(stack!.proc.exitCode).toBeNull();
  });

  it('keeps its state across Ctrl-C, and across a SIGKILL of every process with a stale lock file left behind', async () => {
    const before = (await call(DEMO_API_KEY, 'GET', '/v1/vms')).body.items.map((v: { hostname: string }) => v.hostname).sort();
    expect(before).toEqual(['demo-busy', 'demo-quiet']);

    expect(await stopStack(stack!)).toBe(0);
    stack = await startStack(env);
    expect((await call(DEMO_API_KEY, 'GET', '/v1/vms')).body.items.map((v: { hostname: string }) => v.hostname).sort()).toEqual(before);

    // SIGKILL of the stack's own process alone: what it started (API, worker, agents, Temporal, PostgreSQL) stops
    // with it rather than run on orphaned, holding ports and files; the next start finds the ports free.
    const ports = [env.PORT, env.TEMPORAL_PORT, env.TEMPORAL_UI_PORT, env.POSTGRES_PORT].map(Number);
    const listening = async () => (await Promise.all(ports.map((port) => isListening(port)))).filter(Boolean).length;
    expect(await listening()).toBe(ports.length);
    const top = stack!.proc;
    await new Promise<void>((resolve) => {
      top.once('exit', () => resolve());
      top.kill('SIGKILL');
    });
    let left = ports.length;
    for (let i = 0; i < 100 && left; i++) {
      await new Promise((r) => setTimeout(r, 200));
      left = await listening();
    }
    expect(left).toBe(0);
    stack = await startStack(env);
    expect((await call(DEMO_API_KEY, 'GET', '/v1/vms')).body.items.map((v: { hostname: string }) => v.hostname).sort()).toEqual(before);

    // SIGKILL the stack's process group, then the database server's own (it runs in a group of its own), the
    // way a power cut or an OOM killer would leave things; the lock file then names a live process that is not
    // PostgreSQL, which must not stop the next start.
    const lockFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    const postmaster = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
    const postgresGroup = Number(readFileSync(`/proc/${postmaster}/stat`, 'utf8').split(') ')[1].split(' ')[2]);
    await killStack(stack!);
    try {
      process.kill(-postgresGroup, 'SIGKILL');
    } catch {
      // already gone with the stack
    }
    for (let i = 0; i < 50; i++) {
      try {
        process.kill(postmaster, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        break;
      }
    }
    const lock = readFileSync(lockFile, 'utf8').split('\n');
    lock[0] = String(process.pid);
    writeFileSync(lockFile, lock.join('\n'));

    stack = await startStack(env);
    expect((await call(DEMO_API_KEY, 'GET', '/v1/vms')).body.items.map((v: { hostname: string }) => v.hostname).sort()).toEqual(before);
    const created = await call(DEMO_API_KEY, 'POST', '/v1/vms', {
      hostname: 'after-crash',
      templateId: await templateId(DEMO_API_KEY),
      cpus: 1,
      memoryMb: 512,
    });
    expect(created.status).toBe(202);
    expect((await waitFor(DEMO_API_KEY, created.body.id)).status).toBe('succeeded');
  });

  it("runs the README's tour, pasted into bash as it is written (only the keys and the port filled in), to its end", () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const from = readme.indexOf('```sh\n', readme.indexOf('## A short tour')) + '```sh\n'.length;
    const tour = readme
      .slice(from, readme.indexOf('```\n', from))
      .replace('export KEY=<the demo API key from the banner>', `export KEY=${DEMO_API_KEY}`)
      .replace('export ADMIN_KEY=<the admin key from the banner>', `export ADMIN_KEY=${stack!.adminKey()}`)
      .replace('API=http://localhost:3000', `API=http://localhost:${env.PORT}`);
    const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', tour], { encoding: 'utf8', timeout: 300_000 });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    // wait_op prints how each operation ended: create, snapshot, rollback, migration, drain.
    expect(run.stdout.split('\n').filter((line) => /^(succeeded|failed|compensated|cancelled|stuck|running|pending)$/.test(line))).toEqual(
      Array(5).fill('succeeded'),
    );
  });
  /** The README's second tour and vmctl as users meet it: after the curl tour, on the same stack (web-2 is its VM). */
  const ROOT = path.join(__dirname, '..');
  const VMCTL = path.join(ROOT, 'node_modules', '.bin', 'vmctl');
  const vmctlEnv = () => ({
    VMCTL_URL: `http://localhost:${env.PORT}`,
    VMCTL_API_KEY: DEMO_API_KEY,
    VMCTL_CONFIG: path.join(dataDir, 'vmctl.json'),
  });
  /** A process run without blocking this one's event loop (spawnSync would leave the HTTP clients' sockets stale). */
  const run = (
    command: string,
    args: string[],
    extraEnv: Record<string, string> = {},
  ): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...extraEnv } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
      child.on('error', reject);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  const vmctl = (...args: string[]) => run(VMCTL, args, vmctlEnv());

  it("runs the README's vmctl tour, pasted into bash as it is written (only the keys and the port filled in), to its end", async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const from = readme.indexOf('```sh\n', readme.indexOf('The same with `vmctl`')) + '```sh\n'.length;
    const tour = readme
      .slice(from, readme.indexOf('```\n', from))
      .replace('<the demo API key from the banner>', DEMO_API_KEY)
      .replace('<the admin key from the banner>', stack!.adminKey())
      .replace('http://localhost:3000', `http://localhost:${env.PORT}`);
    const tourRun = await run('bash', ['-e', '-o', 'pipefail', '-c', tour], { VMCTL_CONFIG: vmctlEnv().VMCTL_CONFIG });
    expect({ status: tourRun.status, stderr: tourRun.status === 0 ? '' : tourRun.stderr }).toEqual({ status: 0, stderr: '' });
    // Each --wait ends with how its operation ended: create, snapshot, rollback, migration, drain.
    const ends = tourRun.stdout
      .split('\n')
      .flatMap((line) => /^(\S+) [0-9a-f-]{36} (\w+) in [\d.]+ s$/.exec(line)?.slice(1).join(' ') ?? []);
    expect(ends).toEqual([
      'vm.create succeeded',
      'snapshot.create succeeded',
      'disk.rollback succeeded',
      'vm.migrate succeeded',
      'node.drain succeeded',
    ]);
    expect(tourRun.stdout).toContain('disk.rollback: the plan (dry run, nothing was started)');
    expect(tourRun.stdout).toMatch(/Temporal UI: http:\/\/\S+\/workflows\/vm-create-web-2-[0-9a-f]{8}/);
    // Without a terminal, the progress is a line per change, on stderr.
    expect(tourRun.stderr).toMatch(/^vm\.migrate \d\/\d steps \| running: \w+/m);
  });

  it('vmctl for scripts: --json prints what the API answered, and the exit code says how it went', async () => {
    const get = await vmctl('--json', 'vm', 'get', 'web-2');
    expect(get.status).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({ hostname: 'web-2', status: 'running' });

    const snapshot = await vmctl('--json', 'snapshot', 'create', 'web-2', 's2', '--wait');
    expect({ status: snapshot.status, stderr: snapshot.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(snapshot.stdout)).toMatchObject({ type: 'snapshot.create', status: 'succeeded' });
    expect(JSON.parse((await vmctl('--json', 'snapshot', 'get', 'web-2', 's2')).stdout)).toMatchObject({
      name: 's2',
      status: 'ok',
      type: 'manual',
    });

    const plan = await vmctl('--json', 'vm', 'stop', 'web-2', '--dry-run');
    expect(plan.status).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ dryRun: true, type: 'vm.stop', steps: [{ name: 'stopVm' }, { name: 'recordVm' }] });

    // Refused by the API: exit 2 and the catalogue's code; nothing was started.
    const refused = await vmctl('vm', 'start', 'web-2');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^vmctl: 423 VM_INVALID_STATE: /);
    const unknown = await vmctl('vm', 'get', 'no-such-vm');
    expect({ status: unknown.status, stderr: unknown.stderr }).toEqual({ status: 2, stderr: 'vmctl: no VM with hostname no-such-vm\n' });
    // No API there: exit 3.
    const unreachable = await vmctl('--url', `http://127.0.0.1:${await freePort()}`, 'vm', 'list');
    expect(unreachable.status).toBe(3);
    expect(unreachable.stderr).toMatch(/^vmctl: the API could not be reached \(ECONNREFUSED\)/);

    // A cancel that takes: its --wait ends 0 once the operation is cancelled (slow driver calls give it time to land).
    const admin = typed(stack!.adminKey());
    await unwrap(admin.PUT('/v1/admin/simulator/latency', { body: { method: '*', ms: 1500 } }));
    try {
      const reboot = JSON.parse((await vmctl('--json', 'vm', 'reboot', 'web-2')).stdout);
      const cancel = await vmctl('--json', 'op', 'cancel', reboot.id, '--wait');
      expect({ status: cancel.status, stderr: cancel.stderr }).toEqual({ status: 0, stderr: '' });
      expect(JSON.parse(cancel.stdout)).toMatchObject({ id: reboot.id, status: 'cancelled' });
    } finally {
      await unwrap(admin.DELETE('/v1/admin/simulator/latency'));
    }
    expect(JSON.parse((await vmctl('--json', 'vm', 'get', 'web-2')).stdout)).toMatchObject({ status: 'running', currentOperationId: null });
  });

  it('vmctl --wait in a real terminal: a progress bar of the steps, each retry, the undo while it compensates, and how it ended', async () => {
    const admin = typed(stack!.adminKey());
    // Every driver call takes 400 ms; the first two stops fail as an unreachable node would (the step retries); the
    // rollback's attach fails for good (the rollback is undone). The attach takes longer than vmctl's refresh (1 s,
    // besides the status changes the event stream announces), so that a refresh lands while it runs.
    await unwrap(admin.PUT('/v1/admin/simulator/latency', { body: { method: '*', ms: 400 } }));
    await unwrap(admin.PUT('/v1/admin/simulator/latency', { body: { method: 'attachDisk', ms: 2500 } }));
    await unwrap(admin.POST('/v1/admin/simulator/faults', { body: { method: 'stopVm', failCalls: 2, error: 'unavailable' } }));
    await unwrap(admin.POST('/v1/admin/simulator/faults', { body: { method: 'attachDisk', failCalls: 1, error: 'invalid_state' } }));
    try {
      const stop = new Terminal(`${VMCTL} vm stop web-2 --wait`, { env: vmctlEnv(), cwd: ROOT });
      try {
        const { exitCode, seen, screen } = await stop.untilExit(120_000);
        expect({ exitCode, screen }).toMatchObject({ exitCode: 0 });
        expect(seen).toContainEqual(expect.stringMatching(/^vm\.stop \[-+\] 0\/2 steps \| running: stopVm \(attempt [23]\)$/));
        expect(screen).toMatch(/^vm\.stop \[=+\] 2\/2 steps \| succeeded$/m);
        expect(screen).toMatch(/^vm\.stop [0-9a-f-]{36} succeeded in [\d.]+ s$/m);
        expect(screen).toMatch(/Temporal UI: http:\/\/\S+\/workflows\/vm-stop-web-2-[0-9a-f]{8}/);
      } finally {
        stop.close();
      }

      const rollback = new Terminal(`${VMCTL} snapshot rollback web-2 s2 --new-disk --wait`, { env: vmctlEnv(), cwd: ROOT });
      try {
        const { exitCode, seen, screen } = await rollback.untilExit(120_000);
        expect({ exitCode, screen }).toMatchObject({ exitCode: 1 });
        expect(seen).toContainEqual(expect.stringMatching(/^disk\.rollback \[[-=]+\] \d\/\d steps \| running: attachNewDisk$/));
        expect(seen).toContainEqual(
          expect.stringMatching(/^disk\.rollback \[[-=]+\] \d\/\d steps \| compensating: undo (createNewDisk|detachOldDisk)$/),
        );
        expect(screen).toMatch(/^disk\.rollback [0-9a-f-]{36} compensated in [\d.]+ s$/m);
        expect(screen).toMatch(/DriverInvalidStateError: injected fault .* \(step attachNewDisk\)/);
      } finally {
        rollback.close();
      }
    } finally {
      await unwrap(admin.DELETE('/v1/admin/simulator/faults'));
      await unwrap(admin.DELETE('/v1/admin/simulator/latency'));
    }
  });

  it('the typed client generated from openapi.json drives the stack: an operation followed over the event stream, errors with their codes', async () => {
    const api = typed(DEMO_API_KEY);
    const [vm] = (await unwrap(api.GET('/v1/vms', { params: { query: { hostname: 'web-2' } } }))).items;
    expect(vm).toMatchObject({ hostname: 'web-2', status: 'stopped' });

    const abort = new AbortController();
    const events: OperationEvent[] = [];
    const listening = (async () => {
      for await (const event of operationEvents(api, { signal: abort.signal })) {
        events.push(event);
        if (event.vmId === vm.id && event.status === 'succeeded') break;
      }
    })();
    await new Promise((r) => setTimeout(r, 300)); // the stream is open
    const op = await started(api.POST('/v1/vms/{id}/start', { params: { path: { id: vm.id } }, body: {} }));
    const views: Operation['status'][] = [];
    const end = await followOperation(api, op.id, { onUpdate: (view) => views.push(view.status) });
    expect(end).toMatchObject({ type: 'vm.start', status: 'succeeded', vmId: vm.id });
    expect(views.at(-1)).toBe('succeeded');
    await listening;
    abort.abort();
    expect(events.filter((e) => e.operationId === end.id).map((e) => e.status)).toEqual(expect.arrayContaining(['running', 'succeeded']));

    await expect(unwrap(api.GET('/v1/vms/{id}', { params: { path: { id: randomUUID() } } }))).rejects.toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });
    await expect(unwrap(api.POST('/v1/vms/{id}/start', { params: { path: { id: vm.id } }, body: {} }))).rejects.toMatchObject({
      status: 423,
      code: 'VM_INVALID_STATE',
    });
  });
});
