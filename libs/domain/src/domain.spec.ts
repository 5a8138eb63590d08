import { canTransition } from './vm-status';
import { isValidHostname } from './hostname';
import { pickNode, type NodeCapacity } from './placement';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from './api-key';

describe('hostname (Gigas rules)', () => {
  it.each(['web', 'web-1', 'A', 'a'.repeat(25), 'x-9-y', 'Web-Front'])('accepts %s', (h) => expect(isValidHostname(h)).toBe(true));
  it.each(['', '1web', '9', 'a'.repeat(26), 'web_1', 'web.example', 'wéb', 'web 1'])('rejects "%s"', (h) =>
    expect(isValidHostname(h)).toBe(false),
  );
});

describe('VM state machine', () => {
  it('lets a VM being created end running, stopped or in error', () => {
    expect(canTransition('creating', 'running')).toBe(true);
    expect(canTransition('creating', 'stopped')).toBe(true);
    expect(canTransition('creating', 'error')).toBe(true);
  });
  it('never goes back to creating', () => {
    for (const from of ['stopped', 'running', 'error'] as const) expect(canTransition(from, 'creating')).toBe(false);
  });
  it('treats staying put as allowed, so repeated inventory writes are idempotent', () => {
    expect(canTransition('running', 'running')).toBe(true);
  });
});

describe('placement', () => {
  const node = (name: string, over: Partial<NodeCapacity> = {}): NodeCapacity => ({
    id: name,
    name,
    status: 'online',
    cpus: 16,
    memoryMb: 32768,
    storageGb: 500,
    usedCpus: 0,
    usedMemoryMb: 0,
    usedStorageGb: 0,
    ...over,
  });
  const req = { cpus: 2, memoryMb: 4096, storageGb: 20 };

  it('picks the online node left with the most free memory', () => {
    const chosen = pickNode(
      [node('a', { usedMemoryMb: 20000 }), node('b', { usedMemoryMb: 1000 }), node('c', { usedMemoryMb: 9000 })],
      req,
    );
    expect(chosen?.name).toBe('b');
  });
  it('breaks ties by name, so placement is repeatable', () => {
    expect(pickNode([node('n2'), node('n1')], req)?.name).toBe('n1');
  });
  it('skips nodes that are not online or lack cpu, memory or storage', () => {
    const nodes = [
      node('off', { status: 'maintenance' }),
      node('cpu', { usedCpus: 15 }),
      node('mem', { usedMemoryMb: 30000 }),
      node('disk', { usedStorageGb: 490 }),
    ];
    expect(pickNode(nodes, req)).toBeNull();
    expect(pickNode([...nodes, node('ok', { usedCpus: 14, usedMemoryMb: 28672, usedStorageGb: 480 })], req)?.name).toBe('ok');
  });
});

describe('API keys', () => {
  it('are random, hashed deterministically, and shown only by a short prefix', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^vmo_[A-Za-z0-9_-]{32}$/);
    expect(hashApiKey(a)).toBe(hashApiKey(a));
    expect(hashApiKey(a)).not.toBe(hashApiKey(b));
    expect(hashApiKey(a)).not.toContain(a);
    expect(apiKeyDisplayPrefix(a)).toBe(a.slice(0, 10));
  });

  it('show little of a key an operator chose: at most a quarter of it, at most 4 characters', () => {
    expect(apiKeyDisplayPrefix('admin-key-1')).toBe('ad…');
    expect(apiKeyDisplayPrefix('abc')).toBe('…');
    expect(apiKeyDisplayPrefix('a-long-operator-chosen-secret-of-40-chars')).toBe('a-lo…');
    // A vmo_ key of another length is not one this API generated.
    expect(apiKeyDisplayPrefix('vmo_short')).toBe('vm…');
  });
});
