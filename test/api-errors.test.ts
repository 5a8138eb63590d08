import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness, type Harness } from './support/harness';

/** Bad input: a 4xx with the one JSON error shape, and nothing written. */
describe('API errors', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness({ worker: false });
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h.close());

  const valid = () => ({ hostname: 'api-err-1', templateId: h.world.templateId, cpus: 1, memoryMb: 1024 });

  async function counts() {
    const [row] = await h.dataSource.query(
      `SELECT (SELECT count(*) FROM vms)::int AS vms, (SELECT count(*) FROM disks)::int AS disks,
              (SELECT count(*) FROM operations)::int AS operations`,
    );
    return row;
  }

  function expectErrorShape(body: any, code: string) {
    expect(body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Object) } });
    expect(body.error.message.length).toBeGreaterThan(10);
  }

  it('input the database or the validator cannot take is a 4xx in the error shape, never a 500, and writes nothing', async () => {
    const before = await counts();
    const big = await h.call('POST', '/v1/vms', { key, rawBody: JSON.stringify({ ...valid(), note: 'x'.repeat(20 * 1024 * 1024) }) });
    expect([big.status, big.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const latin1 = await h.call('POST', '/v1/vms', {
      key,
      rawBody: JSON.stringify(valid()),
      headers: { 'content-type': 'application/json; charset=latin1' },
    });
    expect([latin1.status, latin1.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const deep = await h.call('POST', '/v1/vms', { key, rawBody: '['.repeat(100_000) + ']'.repeat(100_000) });
    expect([deep.status, deep.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const nested = await h.call('POST', '/v1/vms', {
      key,
      body: { ...valid(), label: JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)) },
    });
    expect([nested.status, nested.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    for (const path of [
      '/v1/vms?offset=99999999999999999999',
      '/v1/operations?offset=99999999999999999999',
      '/v1/vms?label=a%00b',
      '/v1/vms?hostname=%00',
    ]) {
      const res = await h.call('GET', path, { key });
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 400, code: 'VALIDATION_FAILED' });
    }
    const nul = await h.call('POST', '/v1/vms', { key, body: { ...valid(), note: 'a\u0000b' } });
    expect([nul.status, nul.body.error.details.fields]).toEqual([
      400,
      [{ field: 'body.note', problems: ['must not contain the NUL character'] }],
    ]);
    for (const res of [big, latin1, deep, nested, nul]) expectErrorShape(res.body, res.body.error.code);
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['no Authorization header', null],
    ['an unknown key', 'vmo_not-a-real-key'],
  ])('401 with %s, on reads and writes alike', async (_, badKey) => {
    for (const [method, path] of [
      ['GET', '/v1/vms'],
      ['POST', '/v1/vms'],
      ['GET', '/v1/operations'],
    ]) {
      const res = await h.call(method, path, { key: badKey, body: method === 'POST' ? valid() : undefined });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('401 for a malformed Authorization header', async () => {
    const res = await fetch(`${h.baseUrl}/v1/vms`, { headers: { authorization: `Basic ${key}` } });
    expect(res.status).toBe(401);
    expectErrorShape(await res.json(), 'UNAUTHENTICATED');
  });

  it.each([
    ['an unknown field', { ...{ hostname: 'x1' }, bogus: true }, 'property bogus should not exist'],
    ['cpus as a string', { cpus: '2' }, 'cpus must be an integer'],
    ['a fractional memory size', { memoryMb: 1024.5 }, 'memoryMb must be an integer'],
    ['too many cpus', { cpus: 65 }, 'cpus must not be greater than 64'],
    ['a hostname starting with a digit', { hostname: '1web' }, 'must not start with a digit'],
    ['a hostname over 25 characters', { hostname: 'a'.repeat(26) }, 'hostname must be 1-25 characters'],
    ['a hostname with an underscore', { hostname: 'web_1' }, 'letters, digits and dashes'],
    ['a templateId that is not a UUID', { templateId: 'debian' }, 'templateId must be a UUID'],
    ['start as a string', { start: 'yes' }, 'start must be a boolean'],
  ])('400 VALIDATION_FAILED for %s, and nothing is written', async (_, patch, fragment) => {
    const before = await counts();
    const res = await h.call('POST', '/v1/vms', { key, body: { ...valid(), ...patch } });
    expect(res.status).toBe(400);
    expectErrorShape(res.body, 'VALIDATION_FAILED');
    expect(res.body.error.message).toContain(fragment);
    expect(res.body.error.details.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field: expect.any(String) })]));
    expect(await counts()).toEqual(before);
  });

  it('400 for a missing required field, naming it', async () => {
    const { cpus: _cpus, ...body } = valid();
    const res = await h.call('POST', '/v1/vms', { key, body });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'cpus' })]));
  });

  it('400 for a body that is not JSON, or not an object', async () => {
    for (const rawBody of ['{"hostname": ', '[]', '"web"']) {
      const before = await counts();
      const res = await h.call('POST', '/v1/vms', { key, rawBody });
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual(expect.objectContaining({ code: expect.stringMatching(/BAD_REQUEST|VALIDATION_FAILED/) }));
      expect(await counts()).toEqual(before);
    }
  });

  it('400 for a system disk smaller than the template', async () => {
    const res = await h.call('POST', '/v1/vms', { key, body: { ...valid(), diskSizeGb: 5 } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('diskSizeGb must be at least 10');
  });

  it('412 INVALID_PARAMETER for a template or node that does not exist', async () => {
    const before = await counts();
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const patch of [{ templateId: missing }, { nodeId: missing }]) {
      const res = await h.call('POST', '/v1/vms', { key, body: { ...valid(), ...patch } });
      expect(res.status).toBe(412);
      expectErrorShape(res.body, 'INVALID_PARAMETER');
      expect(res.body.error.details.field).toBe(Object.keys(patch)[0]);
    }
    expect(await counts()).toEqual(before);
  });

  it('417 INSUFFICIENT_CAPACITY when no node has room, and nothing is written', async () => {
    const before = await counts();
    const res = await h.call('POST', '/v1/vms', { key, body: { ...valid(), memoryMb: 524288 } });
    expect(res.status).toBe(417);
    expectErrorShape(res.body, 'INSUFFICIENT_CAPACITY');
    expect(await counts()).toEqual(before);
  });

  it('409 HOSTNAME_TAKEN for a hostname the tenant already uses; another tenant may use it', async () => {
    const body = { ...valid(), hostname: 'dup-host' };
    expect((await h.call('POST', '/v1/vms', { key, body })).status).toBe(202);
    const before = await counts();
    const dup = await h.call('POST', '/v1/vms', { key, body });
    expect(dup.status).toBe(409);
    expectErrorShape(dup.body, 'HOSTNAME_TAKEN');
    expect(dup.body.error.details).toEqual({ hostname: 'dup-host', existing: 'dup-host' });
    expect(await counts()).toEqual(before);
    // Hostnames are DNS names: another case is the same name.
    const upper = await h.call('POST', '/v1/vms', { key, body: { ...body, hostname: 'Dup-HOST' } });
    expect([upper.status, upper.body.error.code, upper.body.error.details]).toEqual([
      409,
      'HOSTNAME_TAKEN',
      { hostname: 'Dup-HOST', existing: 'dup-host' },
    ]);
    expect(await counts()).toEqual(before);

    const other = await h.newTenant();
    expect((await h.call('POST', '/v1/vms', { key: other.apiKey, body })).status).toBe(202);
  });

  it("404 for another tenant's VM and operation, exactly as for one that does not exist", async () => {
    const created = await h.call('POST', '/v1/vms', { key, body: { ...valid(), hostname: 'mine-only' } });
    const other = await h.newTenant();
    for (const path of [`/v1/vms/${created.body.vmId}`, `/v1/operations/${created.body.id}`]) {
      const res = await h.call('GET', path, { key: other.apiKey });
      expect(res.status).toBe(404);
      expectErrorShape(res.body, 'NOT_FOUND');
    }
    const list = await h.call('GET', '/v1/vms', { key: other.apiKey });
    expect(list.body.items.map((v: any) => v.id)).not.toContain(created.body.vmId);
  });

  it('400 for a path id that is not a UUID, 404 with the error shape for an unknown route', async () => {
    const bad = await h.call('GET', '/v1/vms/not-a-uuid', { key });
    expect(bad.status).toBe(400);
    expectErrorShape(bad.body, 'VALIDATION_FAILED');
    const unknown = await h.call('GET', '/v1/nothing-here', { key });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  it('400 for bad list parameters', async () => {
    // Numbers are decimal digits: 0x10, 1e1, +5, " 5" and an empty value are not read as 16, 10, 5, 5 and 0.
    for (const query of [
      'limit=0',
      'limit=abc',
      'status=sleeping',
      'offset=-1',
      'limit=1000000000',
      'offset=-99999999999',
      'limit=0x10',
      'limit=1e1',
      'limit=%2B5',
      'limit=%205',
      'limit=',
      'offset=0b1',
    ]) {
      const res = await h.call('GET', `/v1/vms?${query}`, { key });
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  it('405 METHOD_NOT_ALLOWED with the Allow header for a method a path does not take; 404 for a path that does not exist', async () => {
    const opId = '00000000-0000-4000-8000-000000000000';
    for (const [method, path, allow] of [
      ['PUT', '/v1/vms', 'GET, HEAD, POST'],
      ['DELETE', `/v1/operations/${opId}`, 'GET, HEAD'],
      ['GET', `/v1/vms/${opId}/start`, 'POST'],
    ] as const) {
      const res = await fetch(`${h.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as any;
      expect({ method, path, status: res.status, allow: res.headers.get('allow'), code: body.error.code }).toEqual({
        method,
        path,
        status: 405,
        allow,
        code: 'METHOD_NOT_ALLOWED',
      });
      expect(body.error.details.allowed).toEqual(allow.split(', '));
    }
    const unknown = await h.call('PUT', '/v1/nothing-here', { key });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('415 for a body in another media type, charset or encoding, 400 for a path that does not decode, all in the error shape and writing nothing', async () => {
    const before = await counts();
    const json = JSON.stringify(valid());
    for (const [headers, fragment] of [
      [{ 'content-type': 'text/plain' }, 'Content-Type: application/json'],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'Content-Type: application/json'],
      [{ 'content-type': 'application/json; charset=utf-16' }, 'charset "utf-16"'],
      [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'Content-Encoding "gzip"'],
    ] as const) {
      const res = await h.call('POST', '/v1/vms', { key, rawBody: json, headers });
      expect({ headers, status: res.status }).toEqual({ headers, status: 415 });
      expectErrorShape(res.body, 'UNSUPPORTED_MEDIA_TYPE');
      expect(res.body.error.message).toContain(fragment);
    }
    for (const path of ['/v1/vms/%zz', `/v1/vms/${'a'.repeat(2000)}`]) {
      const res = await h.call('GET', path, { key });
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
      expect(res.body.error.message.length).toBeLessThan(200);
    }
    // Paths match as they always did: a trailing slash and the letters' case make no difference.
    for (const path of ['/v1/vms/', '/V1/VMs']) expect((await h.call('GET', path, { key })).status).toBe(200);
    expect(await counts()).toEqual(before);
  });

  it('400 for a "__proto__" field, as for any field the request does not take, and for null where a field takes no null', async () => {
    const before = await counts();
    const raw = JSON.stringify(valid()).replace(/^\{/, '{"__proto__": {"cpus": 64},');
    const res = await fetch(`${h.baseUrl}/v1/vms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: raw,
    });
    const body = (await res.json()) as any;
    expect([res.status, body.error.code, body.error.details.fields[0].field]).toEqual([400, 'VALIDATION_FAILED', 'body.__proto__']);
    for (const [path, field] of [
      ['/v1/api-keys', { name: 'ci', role: null }],
      ['/v1/vms', { ...valid(), nodeId: null }],
      ['/v1/vms', { ...valid(), label: null }],
    ] as const) {
      const refused = await h.call('POST', path, { key, body: field });
      expect({ path, status: refused.status, code: refused.body.error?.code }).toEqual({ path, status: 400, code: 'VALIDATION_FAILED' });
    }
    expect(await counts()).toEqual(before);
  });

  it('very long strings are refused quickly, in the error shape, and write nothing', async () => {
    const before = await counts();
    for (const body of [
      { ...valid(), hostname: 'a'.repeat(200_000) },
      { ...valid(), label: 'l'.repeat(200_000) },
      { ...valid(), note: 'n'.repeat(200_000) },
    ]) {
      const started = Date.now();
      const res = await h.call('POST', '/v1/vms', { key, body });
      expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(Date.now() - started).toBeLessThan(2000);
    }
    expect(await counts()).toEqual(before);
  });

  it('documents every operation in the OpenAPI document behind the Swagger UI', async () => {
    const res = await fetch(`${h.baseUrl}/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    // The committed openapi.json is the document the API serves (npm run openapi writes it).
    const committed = readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8');
    if (`${JSON.stringify(doc, null, 2)}\n` !== committed)
      throw new Error('openapi.json is stale: run npm run build && npm run openapi, and commit it');
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /v1/vms',
        'GET /v1/vms/count',
        'GET /v1/vms/{id}/status/current',
        'PUT /v1/vms/{id}/status/current',
        'PATCH /v1/vms/{id}',
        'DELETE /v1/vms/{id}',
        'POST /v1/vms/{id}/rebuild',
        ...['start', 'stop', 'shutdown', 'reboot', 'reset', 'freeze', 'unfreeze'].map((a) => `POST /v1/vms/{id}/${a}`),
        'GET /v1/disks',
        'POST /v1/vms/{id}/disks',
        'POST /v1/vms/{id}/disks/{diskId}/attach',
        'POST /v1/vms/{id}/disks/{diskId}/detach',
        'POST /v1/vms/{id}/disks/{diskId}/resize',
        'DELETE /v1/vms/{id}/disks/{diskId}',
        'GET /v1/vms/{id}/snapshots',
        'POST /v1/vms/{id}/snapshots',
        'DELETE /v1/vms/{id}/snapshots',
        'POST /v1/vms/{id}/snapshots/sync',
        'GET /v1/vms/{id}/snapshots/{name}',
        'PATCH /v1/vms/{id}/snapshots/{name}',
        'DELETE /v1/vms/{id}/snapshots/{name}',
        'POST /v1/vms/{id}/snapshots/{name}/rollback',
        'GET /v1/admin/nodes/{id}/audit',
        'POST /v1/admin/simulator/faults',
      ]),
    );
    const all = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op: op as any })),
    );
    // Every operation says what it does; path ids are UUIDs (as the API checks them); no header is required twice.
    expect(all.filter(({ op }) => !op.summary).map(({ method, path }) => `${method} ${path}`)).toEqual([]);
    for (const { path, op } of all) {
      for (const param of op.parameters ?? []) {
        if (param.in === 'path' && (param.name === 'id' || param.name.endsWith('Id')) && !path.includes('/simulator/faults/')) {
          expect({ path, param: param.name, schema: param.schema }).toEqual({
            path,
            param: param.name,
            schema: { type: 'string', format: 'uuid' },
          });
        }
      }
    }
    const events = all.find(({ path, method }) => path === '/v1/events' && method === 'get')!.op;
    expect(events.parameters.filter((p: any) => p.in === 'header').map((p: any) => [p.name, p.required])).toEqual([
      ['Last-Event-ID', false],
    ]);
    expect((doc as any).components.securitySchemes.bearer.bearerFormat).not.toMatch(/JWT/);
    const hostname = (doc as any).components.schemas.CreateVmDto.properties.hostname;
    expect(new RegExp(hostname.pattern).test('web-1') && !new RegExp(hostname.pattern).test('1web')).toBe(true);
  });
});
