import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';

/**
 * The reads bench's HTTP baseline (bench/reads.ts), in a process of its own as the API is: node:http and a pg pool
 * doing for a read what the API does (the API key looked up by its hash, then the page's SQL, the rows sent as JSON),
 * with no framework. What ours takes beyond it is NestJS, Fastify, TypeORM and our own code; what it takes itself is
 * the machine's floor for an authenticated read over HTTP.
 *
 * Usage: node bare-http.process.js <database url>; prints `port <n>` once it listens.
 *   GET /vm/<id>   one VM with its disks (the API's GET /v1/vms/:id)
 *   GET /vms       the first page of 100 VMs by hostname, with their disks (GET /v1/vms?limit=100)
 */
const pool = new Pool({ connectionString: process.argv[2], max: 10 });

const PAGE = `WITH page AS (SELECT * FROM vms WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id = $2) ORDER BY hostname, id LIMIT 100)
  SELECT page.*, (SELECT json_agg(d) FROM disks d WHERE d.vm_id = page.id) AS disks FROM page`;

const server = createServer((req, res) => {
  const answer = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const key = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  const one = /^\/vm\/([0-9a-f-]{36})$/.exec(req.url ?? '')?.[1];
  if (!key || (!one && req.url !== '/vms')) return answer(404, { error: 'not found' });
  void (async () => {
    const hash = createHash('sha256').update(key, 'utf8').digest('hex');
    const { rows: keys } = await pool.query(`SELECT id, tenant_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [hash]);
    if (!keys[0]) return answer(401, { error: 'unauthenticated' });
    const { rows } = await pool.query(PAGE, [keys[0].tenant_id, one ?? null]);
    if (one) return rows[0] ? answer(200, rows[0]) : answer(404, { error: 'not found' });
    answer(200, { items: rows });
  })().catch((err: Error) => answer(500, { error: err.message }));
});

server.listen(0, '127.0.0.1', () => console.log(`port ${(server.address() as AddressInfo).port}`));
