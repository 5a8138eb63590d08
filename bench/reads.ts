import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Client as PgClient } from 'pg';
import { api, cpuMsOf, percentile, QUICK, report, round, startBenchStack, withDatabase, type BenchStack } from './support';

/**
 * The list endpoints at 100k VMs and 1M operations (--quick: 10k and 100k), each against the SQL that reads the
 * same page straight from PostgreSQL, in the same run: p50/p99 of sequential requests. One VM by id and the first
 * page are also measured against a bare HTTP server doing the same work without a framework (bare-http.process.ts):
 * the machine's floor for an authenticated read. Each row also gives the CPU the API's process used per request (all
 * its threads, from /proc), and the bare server's for its two: a measure the machine's neighbours move far less than
 * the latencies' tails. /proc counts in 10 ms ticks, so --quick's figures are coarse.
 */
async function seed(db: PgClient, vms: number, operations: number): Promise<{ tenantId: string; vmId: string }> {
  const [{ id: tenantId }] = (await db.query(`SELECT id FROM tenants WHERE name = 'demo'`)).rows;
  const nodes = (await db.query(`SELECT id FROM nodes ORDER BY name`)).rows.map((r) => r.id as string);
  const [{ id: otherTenant }] = (await db.query(`INSERT INTO tenants (name) VALUES ('bench-other') RETURNING id`)).rows;
  // The demo tenant's VMs and a tenth as many of another tenant's, with a system disk each.
  for (const [tenant, count, prefix] of [
    [tenantId, vms, 'vm'],
    [otherTenant, Math.ceil(vms / 10), 'other'],
  ] as const) {
    await db.query(
      `INSERT INTO vms (id, tenant_id, hostname, label, cpus, memory_mb, node_id, status, created_at)
       SELECT gen_random_uuid(), $1, $2 || '-' || i || '-' || substr(md5(i::text), 1, 6), CASE WHEN i % 10 = 0 THEN 'batch-' || (i % 7) END,
              1 + i % 8, 512 * (1 + i % 16), ($3::uuid[])[1 + i % array_length($3::uuid[], 1)],
              (ARRAY['running', 'stopped', 'running', 'error'])[1 + i % 4], now() - make_interval(secs => i)
         FROM generate_series(1, $4::int) i`,
      [tenant, prefix, nodes, count],
    );
  }
  await db.query(
    `INSERT INTO disks (id, tenant_id, node_id, vm_id, position, size_gb) SELECT gen_random_uuid(), tenant_id, node_id, id, 0, 10 FROM vms`,
  );
  // Operations of the demo tenant's VMs over a year; the event trigger is off while they are written (a log of a
  // million announcements would measure the seeding, not the reads).
  await db.query(`ALTER TABLE operations DISABLE TRIGGER operations_record_event`);
  await db.query(
    `WITH v AS (SELECT id, row_number() OVER () AS n FROM vms WHERE tenant_id = $1)
     INSERT INTO operations (id, tenant_id, vm_id, type, status, workflow_id, request, created_at, finished_at)
     SELECT gen_random_uuid(), $1, v.id, (ARRAY['vm.stop', 'vm.start', 'snapshot.create', 'vm.reboot', 'disk.rollback'])[1 + i % 5],
            (ARRAY['succeeded', 'succeeded', 'succeeded', 'failed', 'compensated'])[1 + (i / 5) % 5], 'bench-' || i, '{}'::jsonb,
            now() - make_interval(secs => i * 30), now() - make_interval(secs => i * 30 - 2)
       FROM generate_series(1, $2::int) i JOIN v ON v.n = 1 + i % $3`,
    [tenantId, operations, vms],
  );
  await db.query(`ALTER TABLE operations ENABLE TRIGGER operations_record_event`);
  // Vacuumed as well as analyzed, as autovacuum keeps a live database, and so that autovacuum's own vacuum of the rows
  // just written does not run while the reads are timed.
  await db.query(`VACUUM ANALYZE`);
  const [{ id: vmId }] = (await db.query(`SELECT vm_id AS id FROM operations WHERE tenant_id = $1 LIMIT 1`, [tenantId])).rows;
  return { tenantId, vmId };
}

/** The bare HTTP baseline, in a process of its own; resolves to its URL once it listens. */
async function startBareHttp(databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'bare-http.process.js'), databaseUrl], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bare HTTP server did not start')), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /port (\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', () => reject(new Error('the bare HTTP server exited')));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

const WARMUP = 5;
/** Requests per route before any is timed (see main). */
const JIT_WARMUP = QUICK ? 20 : 300;

async function timeIt(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
  }
  return times;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const vms = QUICK ? 10_000 : 100_000;
  const operations = QUICK ? 100_000 : 1_000_000;
  // A p99 of 1,000 requests is their tenth slowest; of 300 (until run 15), their third, which one hiccup of the machine set.
  const runs = QUICK ? 20 : 1000;
  const stack: BenchStack = await startBenchStack();
  const bareHttp = await startBareHttp(stack.databaseUrl);
  const bareGet = async (route: string) => {
    const res = await fetch(`${bareHttp.url}${route}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
    if (res.status !== 200) throw new Error(`bare HTTP ${route}: ${res.status}`);
    return res.json();
  };
  try {
    const rows: Record<string, string | number>[] = [];
    let apiIdleCpuMsPerS = 0;
    await withDatabase(stack, async (db) => {
      const t0 = performance.now();
      const { tenantId, vmId } = await seed(db, vms, operations);
      console.log(`seeded ${vms} VMs and ${operations} operations in ${round((performance.now() - t0) / 1000, 1)} s`);
      const middle = (await api(stack, 'GET', `/v1/vms?limit=500&offset=${Math.floor(vms / 2) - 500}`)).body;
      const deepCursor = middle.nextCursor as string;
      const [deepKey] = JSON.parse(Buffer.from(deepCursor, 'base64url').toString()).slice(1);
      const vmPage = (where: string, order: string, params: unknown[], from = 'vms') =>
        db.query(
          `WITH page AS (SELECT * FROM ${from} vms WHERE tenant_id = $1 ${where} ORDER BY ${order} LIMIT 100)
           SELECT page.*, (SELECT json_agg(d) FROM disks d WHERE d.vm_id = page.id) AS disks FROM page`,
          [tenantId, ...params],
        );
      const opPage = (where: string, params: unknown[]) =>
        db.query(`SELECT * FROM operations WHERE tenant_id = $1 ${where} ORDER BY created_at DESC, id DESC LIMIT 100`, [
          tenantId,
          ...params,
        ]);
      const cases: { what: string; route: string; sql: () => Promise<unknown>; bare?: string; target: number }[] = [
        // The floor: one VM by id, the smallest authenticated read (its key checked, one row, a small answer).
        {
          what: 'floor: one VM by id',
          route: `/v1/vms/${vmId}`,
          sql: () => vmPage('AND id = $2', 'hostname', [vmId]),
          bare: `/vm/${vmId}`,
          target: 10,
        },
        { what: 'VMs, first page', route: '/v1/vms?limit=100', sql: () => vmPage('', 'hostname, id', []), bare: '/vms', target: 10 },
        {
          what: 'VMs, a page in the middle (cursor)',
          route: `/v1/vms?limit=100&cursor=${deepCursor}`,
          sql: () => vmPage('AND hostname > $2', 'hostname, id', [deepKey]),
          target: 10,
        },
        {
          what: 'VMs, status=stopped',
          route: '/v1/vms?limit=100&status=stopped',
          sql: () => vmPage(`AND status = 'stopped'`, 'hostname, id', []),
          target: 10,
        },
        {
          what: 'VMs, newest first',
          route: '/v1/vms?limit=100&orderBy=-created',
          sql: () => vmPage('', 'created_at DESC, hostname DESC', []),
          target: 10,
        },
        {
          what: 'VMs, hostname contains "abc"',
          route: '/v1/vms?limit=100&hostname=abc',
          sql: () =>
            vmPage(
              `AND hostname ILIKE '%abc%'`,
              'hostname, id',
              [],
              `(SELECT * FROM vms WHERE tenant_id = $1 AND hostname ILIKE '%abc%' OFFSET 0)`,
            ),
          target: 15,
        },
        { what: 'operations, first page', route: '/v1/operations?limit=100', sql: () => opPage('', []), target: 10 },
        {
          what: 'operations, status=failed',
          route: '/v1/operations?limit=100&status=failed',
          sql: () => opPage(`AND status = 'failed'`, []),
          target: 10,
        },
        {
          what: 'operations, type=vm.stop',
          route: '/v1/operations?limit=100&type=vm.stop',
          sql: () => opPage(`AND type = 'vm.stop'`, []),
          target: 10,
        },
        {
          what: "a VM's operations",
          route: `/v1/vms/${vmId}/operations?limit=100`,
          sql: () => opPage('AND vm_id = $2', [vmId]),
          target: 10,
        },
      ];
      const apiPid = stack.processes().find((p) => p.kind === 'api')!.pid;
      // What the API's process spends with no request in flight, which every figure below includes.
      const idle0 = cpuMsOf(apiPid);
      await new Promise((r) => setTimeout(r, 3000));
      apiIdleCpuMsPerS = round((cpuMsOf(apiPid) - idle0) / 3, 1);
      console.log(`API process idle: ${apiIdleCpuMsPerS} ms of CPU per second`);
      /** The work's timings, and the CPU the process `pid` used per call (all its threads: GC, I/O, the kernel's part). */
      const timeWithCpu = async (pid: number, work: () => Promise<unknown>) => {
        const cpu0 = cpuMsOf(pid);
        const times = await timeIt(runs, work);
        return { times, cpuMs: (cpuMsOf(pid) - cpu0) / (runs + WARMUP) };
      };
      // Steady state, as a long-running API serves: every route is first served until V8 has optimized its code
      // paths (the first few hundred requests of a fresh process cost up to twice the CPU of later ones), the bare
      // server's alike. Measured without this, the first cases carried the compiler's work and the later ones less.
      for (const c of cases) {
        for (let i = 0; i < JIT_WARMUP; i++) await api(stack, 'GET', c.route);
        if (c.bare) for (let i = 0; i < JIT_WARMUP; i++) await bareGet(c.bare);
      }
      for (const c of cases) {
        const { times: ours, cpuMs: oursCpu } = await timeWithCpu(apiPid, () => api(stack, 'GET', c.route));
        const sql = await timeIt(runs, c.sql);
        const bare = c.bare ? await timeWithCpu(bareHttp.child.pid!, () => bareGet(c.bare!)) : null;
        const p99 = percentile(ours, 99);
        rows.push({
          what: c.what,
          'API p50/p99 ms': `${round(percentile(ours, 50), 1)} / ${round(p99, 1)}`,
          'SQL p50/p99 ms': `${round(percentile(sql, 50), 1)} / ${round(percentile(sql, 99), 1)}`,
          'API/SQL p99': round(p99 / percentile(sql, 99)),
          'API CPU ms/request': round(oursCpu),
          ...(bare && {
            'bare HTTP p50/p99 ms': `${round(percentile(bare.times, 50), 1)} / ${round(percentile(bare.times, 99), 1)}`,
            'API/bare HTTP p50 / p99': `${round(percentile(ours, 50) / percentile(bare.times, 50))} / ${round(p99 / percentile(bare.times, 99))}`,
            'bare CPU ms/request': round(bare.cpuMs),
            'API/bare CPU': bare.cpuMs > 0 ? round(oursCpu / bare.cpuMs) : '',
          }),
          target: `p99 ≤ ${c.target} ms`,
          met: p99 <= c.target ? 'yes' : 'no',
        });
      }
      const [{ count: exact }] = (await db.query(`SELECT count(*)::int AS count FROM operations WHERE tenant_id = $1`, [tenantId])).rows;
      const counted = await timeIt(Math.ceil(runs / 5), () => api(stack, 'GET', '/v1/operations?limit=1&total=true'));
      rows.push({
        what: `operations, total=true (${exact} counted on request)`,
        'API p50/p99 ms': `${round(percentile(counted, 50), 1)} / ${round(percentile(counted, 99), 1)}`,
        target: 'asked for only',
      });
    });
    report('reads', rows, { vms, operations, runs, warmupPerRoute: JIT_WARMUP, apiIdleCpuMsPerS });
  } finally {
    bareHttp.child.kill();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
