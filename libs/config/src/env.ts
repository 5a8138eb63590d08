import { DEFAULT_TASK_QUEUE } from '@vmops/contracts';

/**
 * The process environment, validated once at boot. Every address comes from here; nothing is hard-coded
 * elsewhere. A bad value stops the process with a message naming the variable.
 */
export interface AppConfig {
  databaseUrl: string;
  dbPoolSize: number;
  temporalAddress: string;
  temporalNamespace: string;
  temporalTaskQueue: string;
  temporalUiUrl: string;
  port: number;
  simLatencyMs: number;
}

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];

  const str = (name: string, fallback?: string): string => {
    const value = env[name]?.trim();
    if (value) return value;
    if (fallback !== undefined) return fallback;
    problems.push(`${name} is required`);
    return '';
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const databaseUrl = str('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }

  const config: AppConfig = {
    databaseUrl,
    dbPoolSize: int('DB_POOL_SIZE', 10, 1, 200),
    temporalAddress: str('TEMPORAL_ADDRESS', 'localhost:7233'),
    temporalNamespace: str('TEMPORAL_NAMESPACE', 'default'),
    temporalTaskQueue: str('TEMPORAL_TASK_QUEUE', DEFAULT_TASK_QUEUE),
    temporalUiUrl: str('TEMPORAL_UI_URL', 'http://localhost:8233').replace(/\/+$/, ''),
    port: int('PORT', 3000, 0, 65535),
    simLatencyMs: int('SIM_LATENCY_MS', 0, 0, 600_000),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
