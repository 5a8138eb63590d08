import { resolve } from 'node:path';
import { DEFAULT_TASK_QUEUE } from '@vmops/contracts';

/** Where the simulated hypervisor keeps its world and how it behaves (the default driver). */
export interface SimulatorConfig {
  databaseUrl: string;
  schema: string;
  /** Added to every driver call unless a per-method latency is set at run time. */
  latencyMs: number;
  /** How long a guest with an agent takes to power off after ACPI shutdown. */
  guestShutdownMs: number;
  /** A migration's copy advances in ten steps of this long each. */
  transferStepMs: number;
  /** Faults to inject at start: a JSON array of fault specs (see SimulatorControl.injectFault). */
  faults: string | null;
}

/**
 * The process environment, validated once at boot. Every address comes from here; nothing is hard-coded
 * elsewhere. A bad value stops the process with a message naming the variable.
 */
export interface AppConfig {
  databaseUrl: string;
  dbPoolSize: number;
  /** A query (or a connection) the database has not answered within this long fails: the API answers 503. 0: none. */
  dbTimeoutMs: number;
  /**
   * How long a request (or a step) waits for one of the pool's connections, free or new, before it fails: the API
   * answers 503 API_BUSY when the database answers meanwhile, DATABASE_UNAVAILABLE when it does not. 0: for ever.
   */
  dbPoolWaitMs: number;
  temporalAddress: string;
  temporalNamespace: string;
  temporalTaskQueue: string;
  temporalUiUrl: string;
  /**
   * How long a mutation waits for Temporal to accept its workflow (API_START_TIMEOUT_MS). Past it, if Temporal answers
   * at all, the request is answered 202 with the operation pending and the start goes on in the background; if it
   * does not, 503 TEMPORAL_UNAVAILABLE, nothing changed.
   */
  startTimeoutMs: number;
  port: number;
  /** Snapshots one VM may hold (Erigones' per-VM limit): one more is refused with 417. */
  snapshotLimitPerVm: number;
  /** IPv4 pools by network name: an interface on one of these networks gets the lowest free address of its pool. */
  networkPools: Record<string, string>;
  /** A scheduled snapshot that meets a busy VM (definition onBusy "retry") tries again this often, this many times. */
  snapshotBusyRetry: { intervalSeconds: number; attempts: number };
  /** How often the reconciler's Schedule settles operations that can no longer finish (the worker sets it up). */
  reconcileEverySeconds: number;
  /**
   * The worker's cache of running workflows (WORKER_MAX_CACHED_WORKFLOWS). A cached workflow costs about 300 KiB of
   * the worker's memory (the SDK's own: a bare workflow costs the same); one that is not cached is replayed from its
   * history at its next task, which costs CPU instead (WORKER_MAX_CACHED_WORKFLOWS_DEFAULT).
   */
  workerMaxCachedWorkflows: number;
  simulator: SimulatorConfig;
  /**
   * Whether the API serves the simulator's admin endpoints (/v1/admin/simulator: faults, latency, call counts):
   * SIMULATOR_ENDPOINTS on/off; by default on where the nodes run the simulated driver (AGENT_DRIVER unset or
   * simulated, the stack's and compose's shared setting), off where they run a real one.
   */
  simulatorEndpoints: boolean;
}

/** The QEMU driver's settings (AGENT_DRIVER=qemu). */
export interface QemuConfig {
  /** Where the nodes keep their state: VM definitions, qcow2 disks, snapshots, QMP sockets; the image store. */
  root: string;
  /** The tiny guest scripts/install-qemu.sh builds: VMs with a guest agent boot it. */
  guestKernel: string;
  guestInitrd: string;
  /** tcg (default) or kvm. */
  accel: string;
  /** Base images the agent puts in the store at start when missing, as `templateId:sizeGb` pairs. */
  baseImages: { templateId: string; sizeGb: number }[];
}

/**
 * An agent's slots per node, unless AGENT_MAX_CALLS / AGENT_MAX_LONG_CALLS say otherwise. A node's long calls (a guest's
 * power-off, a copy) are at most one per VM it holds, since a VM has one operation at a time: a thousand covers a
 * host stopping every VM it has. Each running call costs the agent about 85 KiB (the Temporal SDK's own part of that
 * is about 48 KiB), so the slots also bound its memory: about 110 MiB + 85 MiB per thousand calls running.
 */
export const AGENT_SLOT_DEFAULTS = { maxCalls: 200, maxLongCalls: 1000 } as const;

/**
 * The worker's cache of running workflows, unless WORKER_MAX_CACHED_WORKFLOWS says otherwise. Each costs about 300 KiB
 * (the Temporal SDK's own cost: `npm run bench:parked` has the bare baseline). When more operations are busy at once
 * than the cache holds, the least recently used are evicted and replayed at their next task, over and over: with
 * 1,000 stops at once, a cache of 500 ran 0.84× the operations a second of a cache of 1,000
 * (`npm run bench:worker-cache`). Operations parked on long driver calls cost only memory: each is replayed once,
 * when its call ends. A smaller cache trades the first for the second (500: about 150 MiB less).
 */
export const WORKER_MAX_CACHED_WORKFLOWS_DEFAULT = 1000;

/** A node agent: the nodes it serves (their inventory ids) and their hypervisor. */
export interface AgentConfig {
  temporalAddress: string;
  temporalNamespace: string;
  temporalTaskQueue: string;
  nodeIds: string[];
  /** Per node: driver calls at once (AGENT_MAX_CALLS), and long ones (a guest's power-off, a copy) besides (AGENT_MAX_LONG_CALLS). */
  maxCalls: number;
  maxLongCalls: number;
  /** What the driver reports as each served node's capacity. */
  nodeCapacity: { cpus: number; memoryMb: number; storageGb: number };
  /** The hypervisor behind the served nodes (AGENT_DRIVER): the simulated one (default) or QEMU. */
  driver: 'simulated' | 'qemu';
  simulator: SimulatorConfig;
  qemu: QemuConfig;
}

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads variables and collects every problem, so that one error names them all. */
class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  str(name: string, fallback?: string): string {
    const value = this.env[name]?.trim();
    if (value) return value;
    if (fallback !== undefined) return fallback;
    this.problems.push(`${name} is required`);
    return '';
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  /** `name=a.b.c.d/len,…`: IPv4 networks of /8 to /30, one per network name. */
  networkPools(name: string, fallback: string): Record<string, string> {
    const raw = this.str(name, fallback);
    const pools: Record<string, string> = {};
    for (const entry of raw
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)) {
      const m = /^([a-z][a-z0-9-]{0,31})=((\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}))\/(\d{1,2})$/.exec(entry);
      const octets = m ? [m[3], m[4], m[5], m[6]].map(Number) : [];
      const prefix = m ? Number(m[7]) : 0;
      if (!m || octets.some((o) => o > 255) || prefix < 8 || prefix > 30 || m[1] in pools) {
        this.problems.push(`${name} must list network=a.b.c.d/8-30 pools, comma-separated, one per network; got "${entry}"`);
        continue;
      }
      pools[m[1]] = `${m[2]}/${prefix}`;
    }
    return pools;
  }

  postgresUrl(name: string, fallback?: string): string {
    const url = this.str(name, fallback);
    if (url && !/^postgres(ql)?:\/\//.test(url)) this.problems.push(`${name} must be a postgres:// or postgresql:// URL`);
    return url;
  }

  temporal() {
    return {
      temporalAddress: this.str('TEMPORAL_ADDRESS', 'localhost:7233'),
      temporalNamespace: this.str('TEMPORAL_NAMESPACE', 'default'),
      temporalTaskQueue: this.str('TEMPORAL_TASK_QUEUE', DEFAULT_TASK_QUEUE),
    };
  }

  simulator(): SimulatorConfig {
    const databaseUrl = this.env.DATABASE_URL?.trim();
    const schema = this.str('SIM_SCHEMA', 'hypervisor_sim');
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) this.problems.push(`SIM_SCHEMA must be a lower-case SQL identifier, got "${schema}"`);
    const faults = this.env.SIM_FAULTS?.trim() || null;
    if (faults) {
      try {
        if (!Array.isArray(JSON.parse(faults))) throw new Error();
      } catch {
        this.problems.push('SIM_FAULTS must be a JSON array of fault specs');
      }
    }
    return {
      databaseUrl: this.postgresUrl('SIM_DATABASE_URL', databaseUrl),
      schema,
      latencyMs: this.int('SIM_LATENCY_MS', 0, 0, 600_000),
      guestShutdownMs: this.int('SIM_GUEST_SHUTDOWN_MS', 2000, 0, 600_000),
      transferStepMs: this.int('SIM_TRANSFER_STEP_MS', 300, 0, 600_000),
      faults,
    };
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const value = this.str(name, fallback) as T;
    if (!values.includes(value)) this.problems.push(`${name} must be one of ${values.join(', ')}, got "${value}"`);
    return value;
  }

  qemu(): QemuConfig {
    const root = this.str('QEMU_ROOT', resolve('.data/qemu'));
    const baseImages: QemuConfig['baseImages'] = [];
    for (const pair of this.str('QEMU_BASE_IMAGES', '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const m = /^([A-Za-z0-9._-]+):(\d+)$/.exec(pair);
      if (!m) this.problems.push(`QEMU_BASE_IMAGES must be templateId:sizeGb pairs separated by commas, got "${pair}"`);
      else baseImages.push({ templateId: m[1], sizeGb: Number(m[2]) });
    }
    return {
      root: resolve(root),
      guestKernel: resolve(this.str('QEMU_GUEST_KERNEL', '.tools/qemu-guest/vmlinux')),
      guestInitrd: resolve(this.str('QEMU_GUEST_INITRD', '.tools/qemu-guest/initramfs.gz')),
      accel: this.oneOf('QEMU_ACCEL', ['tcg', 'kvm'] as const, 'tcg'),
      baseImages,
    };
  }

  done<T>(config: T): T {
    if (this.problems.length) throw new ConfigError(this.problems);
    return config;
  }
}

export function loadConfig(env: Env = process.env): AppConfig {
  const r = new EnvReader(env);
  const dbTimeoutMs = r.int('DB_TIMEOUT_MS', 8000, 0, 600_000);
  return r.done({
    databaseUrl: r.postgresUrl('DATABASE_URL'),
    dbPoolSize: r.int('DB_POOL_SIZE', 10, 1, 200),
    dbTimeoutMs,
    dbPoolWaitMs: r.int('DB_POOL_WAIT_MS', dbTimeoutMs, 0, 600_000),
    ...r.temporal(),
    temporalUiUrl: r.str('TEMPORAL_UI_URL', 'http://localhost:8233').replace(/\/+$/, ''),
    startTimeoutMs: r.int('API_START_TIMEOUT_MS', 8000, 1, 20_000),
    port: r.int('PORT', 3000, 0, 65535),
    snapshotLimitPerVm: r.int('SNAPSHOT_LIMIT_PER_VM', 50, 1, 10_000),
    networkPools: r.networkPools('NETWORK_POOLS', 'public=100.64.0.0/10,private=10.0.0.0/8'),
    snapshotBusyRetry: {
      intervalSeconds: r.int('SNAPSHOT_BUSY_RETRY_SECONDS', 60, 1, 3600),
      attempts: r.int('SNAPSHOT_BUSY_RETRY_ATTEMPTS', 30, 0, 1000),
    },
    reconcileEverySeconds: r.int('RECONCILE_EVERY_SECONDS', 60, 1, 86_400),
    workerMaxCachedWorkflows: r.int('WORKER_MAX_CACHED_WORKFLOWS', WORKER_MAX_CACHED_WORKFLOWS_DEFAULT, 2, 1_000_000),
    simulator: r.simulator(),
    simulatorEndpoints:
      r.oneOf(
        'SIMULATOR_ENDPOINTS',
        ['on', 'off'] as const,
        r.oneOf('AGENT_DRIVER', ['simulated', 'qemu'] as const, 'simulated') === 'simulated' ? 'on' : 'off',
      ) === 'on',
  });
}

export function loadAgentConfig(env: Env = process.env): AgentConfig {
  const r = new EnvReader(env);
  const nodeIds = r
    .str('AGENT_NODE_IDS')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  if (!nodeIds.length && !r.problems.length) r.problems.push('AGENT_NODE_IDS must name at least one node id');
  return r.done({
    ...r.temporal(),
    nodeIds,
    maxCalls: r.int('AGENT_MAX_CALLS', AGENT_SLOT_DEFAULTS.maxCalls, 1, 100_000),
    maxLongCalls: r.int('AGENT_MAX_LONG_CALLS', AGENT_SLOT_DEFAULTS.maxLongCalls, 1, 100_000),
    nodeCapacity: {
      cpus: r.int('SIM_NODE_CPUS', 32, 1, 4096),
      memoryMb: r.int('SIM_NODE_MEMORY_MB', 131072, 256, 64 * 1024 * 1024),
      storageGb: r.int('SIM_NODE_STORAGE_GB', 2000, 1, 10_000_000),
    },
    driver: r.oneOf('AGENT_DRIVER', ['simulated', 'qemu'] as const, 'simulated'),
    simulator: r.simulator(),
    qemu: r.qemu(),
  });
}
