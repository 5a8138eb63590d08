import { spawn } from 'node:child_process';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { percentile, QUICK, report, round, withPostgres } from './support';

/**
 * What a read leaves to the garbage collector: the same page of 100 rows (shaped as operations are: ids, text, a JSON
 * document, timestamps) read again and again through pg's Client with `query_timeout`, as the pools read before, and
 * through DatabaseClient with the same read timeout; each in a process of its own under --trace-gc-nvp, the two
 * interleaved over the rounds. Per young-generation collection (scavenge): the bytes it moved to the old generation
 * and its pause; the API's requests wait behind those pauses (docs/performance.md, run 15).
 *
 * PostgreSQL: DATABASE_URL, or an embedded server of the bench's own.
 */
interface Side {
  scavenges: number;
  promotedKb: number;
  pauseMs: number;
  maxPauseMs: number;
  msPerQuery: number;
}

function runSide(kind: 'pg' | 'ours', databaseUrl: string, table: string, count: number): Promise<Side> {
  const child = spawn(
    process.execPath,
    ['--trace-gc-nvp', path.join(__dirname, 'query-gc.process.js'), kind, databaseUrl, table, String(count)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: `-r ${path.join(__dirname, '..', '..', 'scripts', 'register-paths.js')}` },
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the ${kind} side exited with ${code}`));
      const timed = out.slice(out.indexOf('MARK\n'));
      const field = (line: string, name: string) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? NaN);
      const scavenges = timed.split('\n').filter((l) => /\bgc=s\b/.test(l));
      const pauses = scavenges.map((l) => field(l, 'pause'));
      const promoted = scavenges.map((l) => field(l, 'promoted'));
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      resolve({
        scavenges: scavenges.length,
        promotedKb: scavenges.length ? sum(promoted) / scavenges.length / 1024 : 0,
        pauseMs: scavenges.length ? sum(pauses) / scavenges.length : 0,
        maxPauseMs: Math.max(0, ...pauses),
        msPerQuery: Number(/^ms ([\d.]+)$/m.exec(timed)?.[1] ?? NaN),
      });
    });
  });
}

async function main(databaseUrl: string): Promise<void> {
  const rounds = QUICK ? 1 : 3;
  const count = QUICK ? 500 : 3000;
  const table = `bench_query_gc_${process.pid}`;
  const db = new PgClient({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query(
      `CREATE TABLE ${table} AS
       SELECT gen_random_uuid() AS id, gen_random_uuid() AS tenant_id, gen_random_uuid() AS vm_id,
              (ARRAY['vm.stop', 'vm.start', 'snapshot.create'])[1 + i % 3] AS type, 'succeeded' AS status,
              'vm.stop-' || i || '-' || md5(i::text) AS workflow_id, jsonb_build_object('vmId', gen_random_uuid(), 'force', i % 2 = 0) AS request,
              NULL::jsonb AS error, now() - make_interval(secs => i * 30) AS created_at, now() - make_interval(secs => i * 30 - 1) AS started_at,
              now() - make_interval(secs => i * 30 - 2) AS finished_at, now() AS updated_at
         FROM generate_series(1, 1000) i`,
    );
    const sides: Record<'pg' | 'ours', Side[]> = { pg: [], ours: [] };
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 ? (['ours', 'pg'] as const) : (['pg', 'ours'] as const))
        sides[kind].push(await runSide(kind, databaseUrl, table, count));
    }
    const median = (xs: number[]) => percentile(xs, 50);
    const summary = (kind: 'pg' | 'ours') => {
      const s = sides[kind];
      return {
        promotedKb: median(s.map((x) => x.promotedKb)),
        pauseMs: median(s.map((x) => x.pauseMs)),
        maxPauseMs: median(s.map((x) => x.maxPauseMs)),
        perThousand: median(s.map((x) => (x.scavenges / count) * 1000)),
        msPerQuery: median(s.map((x) => x.msPerQuery)),
      };
    };
    const pg = summary('pg');
    const ours = summary('ours');
    const row = (name: string, x: typeof pg) => ({
      client: name,
      'scavenges / 1,000 reads': round(x.perThousand, 1),
      'promoted KB / scavenge': round(x.promotedKb, 0),
      'pause ms (mean)': round(x.pauseMs),
      'pause ms (max)': round(x.maxPauseMs),
      'ms / read': round(x.msPerQuery),
    });
    report(
      'query-gc',
      [
        row("pg's Client, query_timeout", pg),
        row('DatabaseClient, readTimeoutMs', ours),
        {
          client: 'ours / pg',
          'promoted KB / scavenge': round(ours.promotedKb / pg.promotedKb),
          'pause ms (mean)': round(ours.pauseMs / pg.pauseMs),
          'pause ms (max)': round(ours.maxPauseMs / pg.maxPauseMs),
          'ms / read': round(ours.msPerQuery / pg.msPerQuery),
        },
      ],
      { rounds, reads: count, sides },
    );
  } finally {
    await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await db.end();
  }
}

withPostgres('query-gc', main).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
