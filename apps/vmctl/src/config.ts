import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** One API to talk to: its address and the key to use there. */
export interface Profile {
  url: string;
  apiKey?: string;
  /** Where the Temporal Web UI of that stack is, when the API's links should be shown elsewhere. */
  temporalUi?: string;
}

/** The profile file: named profiles and the one used when none is named. */
export interface ProfileFile {
  current?: string;
  profiles: Record<string, Profile>;
}

/** Where profiles are kept: $VMCTL_CONFIG, else $XDG_CONFIG_HOME/vmctl/config.json, else ~/.config/vmctl/config.json. */
export function profileFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VMCTL_CONFIG) return env.VMCTL_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'vmctl', 'config.json');
}

export function readProfiles(path: string): ProfileFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<ProfileFile>;
  if (!parsed || typeof parsed !== 'object' || typeof parsed.profiles !== 'object' || parsed.profiles === null) {
    throw new UsageError(`${path} is not a vmctl profile file ({ "current": …, "profiles": { name: { url, apiKey } } })`);
  }
  return { current: parsed.current, profiles: parsed.profiles };
}

/** Written to a temporary file and renamed, readable by its owner only (it holds API keys). */
export function writeProfiles(path: string, file: ProfileFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/**
 * The API and key a command uses, first found wins: --url / --api-key, then VMCTL_URL / VMCTL_API_KEY, then the
 * profile named by --profile or VMCTL_PROFILE, else the file's current profile.
 */
export function resolveProfile(flags: { url?: string; apiKey?: string; profile?: string }, env: NodeJS.ProcessEnv = process.env): Profile {
  const path = profileFilePath(env);
  const file = readProfiles(path);
  const name = flags.profile ?? env.VMCTL_PROFILE ?? file.current;
  const profile = name ? file.profiles[name] : undefined;
  if (name && !profile && (flags.profile || env.VMCTL_PROFILE)) {
    throw new UsageError(`no profile named ${name} in ${path}; vmctl profile set ${name} --url … --api-key … adds it`);
  }
  const url = flags.url ?? env.VMCTL_URL ?? profile?.url;
  if (!url)
    throw new UsageError('no API address: pass --url, set VMCTL_URL, or add a profile (vmctl profile set NAME --url URL --api-key KEY)');
  return { url, apiKey: flags.apiKey ?? env.VMCTL_API_KEY ?? profile?.apiKey, temporalUi: profile?.temporalUi };
}

/** The command was used wrongly (exit 2, nothing was sent). */
export class UsageError extends Error {
  override name = 'UsageError';
}
