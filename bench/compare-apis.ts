import { cpuMsOf, percentile, round } from './support';

/**
 * Two or more running API processes (two builds of the API on one stack and database), side by side on the same reads,
 * interleaved: each round serves every route on every API in turn (the order reversed every other round), 200
 * requests untimed then 1,000 timed, and reads each process's CPU from /proc. Prints every round and the medians.
 * This is how a change to the API's HTTP layer is judged (docs/performance.md, run 11: Fastify against Express).
 *
 * Usage: node -r ./scripts/register-paths.js dist/bench/compare-apis.js <api key> <name>=<base url>=<pid> ...
 *   e.g. ... vmo_… fastify=http://localhost:3000=8247 express=http://localhost:3100=8336
 * The key's tenant should have VMs and operations (a page of up to 100 of each is read).
 */
const ROUNDS = Number(process.env.COMPARE_ROUNDS ?? 6);
const WARMUP = 200;
const TIMED = 1000;

interface Target {
  name: string;
  url: string;
  pid: number;
}

async function get(target: Target, path: string, key: string): Promise<void> {
  const res = await fetch(target.url + path, { headers: { authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${target.name} answered ${res.status} to GET ${path}`);
}

async function main(): Promise<void> {
  const [key, ...specs] = process.argv.slice(2);
  const targets: Target[] = specs.map((spec) => {
    const [name, url, pid] = spec.split('=');
    if (!name || !url || !/^\d+$/.test(pid ?? '')) throw new Error(`"${spec}" is not <name>=<base url>=<pid>`);
    return { name, url, pid: Number(pid) };
  });
  if (!key || targets.length < 2) throw new Error('usage: compare-apis <api key> <name>=<base url>=<pid> <name>=<base url>=<pid> ...');
  const first = await fetch(`${targets[0].url}/v1/vms?limit=1`, { headers: { authorization: `Bearer ${key}` } });
  const vm = ((await first.json()) as { items: { id: string }[] }).items[0];
  if (!vm) throw new Error("the key's tenant has no VM");
  const routes: Record<string, string> = {
    'one VM': `/v1/vms/${vm.id}`,
    'a page of VMs': '/v1/vms?limit=100',
    'a page of operations': '/v1/operations?limit=100',
  };
  const results: Record<string, Record<string, { cpu: number; p50: number; p99: number }[]>> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [route, path] of Object.entries(routes)) {
      for (const target of r % 2 ? [...targets].reverse() : targets) {
        for (let i = 0; i < WARMUP; i++) await get(target, path, key);
        const times: number[] = [];
        const cpuBefore = cpuMsOf(target.pid);
        for (let i = 0; i < TIMED; i++) {
          const started = performance.now();
          await get(target, path, key);
          times.push(performance.now() - started);
        }
        const cpu = (cpuMsOf(target.pid) - cpuBefore) / TIMED;
        ((results[route] ??= {})[target.name] ??= []).push({ cpu, p50: percentile(times, 50), p99: percentile(times, 99) });
      }
    }
  }
  const median = (xs: number[]) => percentile(xs, 50);
  for (const [route, byTarget] of Object.entries(results)) {
    console.log(route);
    const base = median(byTarget[targets[0].name].map((x) => x.cpu));
    for (const [name, runs] of Object.entries(byTarget)) {
      const cpu = median(runs.map((x) => x.cpu));
      console.log(
        `  ${name.padEnd(10)} median CPU ${round(cpu)} ms/request (${round(cpu / base)}× ${targets[0].name}), ` +
          `p50 ${round(median(runs.map((x) => x.p50)))} ms, p99 ${round(median(runs.map((x) => x.p99)))} ms; ` +
          `rounds' CPU ${runs.map((x) => round(x.cpu)).join(', ')}`,
      );
    }
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
