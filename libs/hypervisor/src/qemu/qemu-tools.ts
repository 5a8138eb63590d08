import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';

/** Runs a program to completion; rejects with its stderr when it exits non-zero. */
export function run(program: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      // The program and its first argument (qemu-img's subcommand): a QEMU command line is too long for a message.
      if (err) reject(new Error(`${program} ${args[0] ?? ''}: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

export async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Written whole or not at all: a crash mid-write leaves the previous file. */
let tempSeq = 0;
/** A name beside `path` for a file written and then renamed over it: its own for each writer (process and call). */
export function tempPath(path: string): string {
  return `${path}.${process.pid}-${++tempSeq}.tmp`;
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true });
  const tmp = tempPath(path);
  await fs.writeFile(tmp, JSON.stringify(value, null, 1));
  await fs.rename(tmp, path);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

export async function listNames(dir: string, suffix: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir))
      .filter((f) => f.endsWith(suffix))
      .map((f) => f.slice(0, -suffix.length))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export const GiB = 2 ** 30;

const sizes = new Map<string, { key: string; gb: number }>();

/**
 * The virtual size of a qcow2 image, in GB; `-U` reads it while a QEMU holds the image. Remembered per file
 * until the file changes (inode, length or mtime), as every node-wide sum reads every disk's size.
 */
export async function imageSizeGb(path: string): Promise<number> {
  const st = await fs.stat(path);
  const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
  const known = sizes.get(path);
  if (known?.key === key) return known.gb;
  const info = JSON.parse(await run('qemu-img', ['info', '-U', '--output=json', path]));
  const gb = Math.round(info['virtual-size'] / GiB);
  if (sizes.size > 100_000) sizes.clear();
  sizes.set(path, { key, gb });
  return gb;
}

export async function createImage(path: string, sizeGb: number): Promise<void> {
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', path, `${sizeGb}G`]);
}

/** A standalone copy of `source` (no backing file), grown to `sizeGb` when that is larger; atomic. */
export async function copyImage(source: string, target: string, sizeGb?: number): Promise<void> {
  const tmp = tempPath(target);
  await run('qemu-img', ['convert', '-U', '-O', 'qcow2', source, tmp]);
  if (sizeGb !== undefined && sizeGb > (await imageSizeGb(tmp))) await run('qemu-img', ['resize', '-q', tmp, `${sizeGb}G`]);
  await fs.rename(tmp, target);
}

/**
 * What a disk holds, as the contract's `content` label: the guest kit writes `vmops-content:<label>` at the disk's
 * start (see writeContent); an all-zero start reads `blank`; anything else, `data`.
 */
export async function readContent(path: string): Promise<string> {
  const dump = await run('qemu-io', ['-r', '-U', '-f', 'qcow2', '-c', 'read -v 0 512', path]);
  const bytes: number[] = [];
  for (const line of dump.split('\n')) {
    const m = /^[0-9a-f]{8}:\s+((?:[0-9a-f]{2}\s)+)/.exec(line);
    if (m)
      bytes.push(
        ...m[1]
          .trim()
          .split(/\s+/)
          .map((h) => parseInt(h, 16)),
      );
  }
  if (bytes.every((b) => b === 0)) return 'blank';
  const end = bytes.indexOf(0);
  const text = Buffer.from(bytes.slice(0, end < 0 ? bytes.length : end)).toString('latin1');
  return text.startsWith(CONTENT_PREFIX) ? text.slice(CONTENT_PREFIX.length) : 'data';
}

const CONTENT_PREFIX = 'vmops-content:';

/** The qemu-io commands that write `label` at a disk's start (one byte pattern per character). */
export function contentWrites(label: string): string[] {
  const text = Buffer.from(`${CONTENT_PREFIX}${label}`, 'latin1');
  if (text.length >= 512) throw new Error('a content label is at most 497 characters');
  return ['write -z 0 512', ...[...text].map((byte, i) => `write -P ${byte} ${i} 1`)];
}

/** Writes a content label into an image no QEMU holds. */
export async function writeContent(path: string, label: string): Promise<void> {
  await run('qemu-io', ['-f', 'qcow2', ...contentWrites(label).flatMap((c) => ['-c', c]), path]);
}
