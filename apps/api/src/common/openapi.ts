import type { OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject, ParameterObject, ResponseObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { API_ERRORS, OPERATION_STATUSES, OPERATION_TYPES, STEP_STATUS_MEANINGS, type ApiErrorCode } from '@vmops/contracts';
import { VM_STATUSES } from '@vmops/domain';

const nullable = (schema: SchemaObject): SchemaObject => ({ ...schema, nullable: true });
/** An object of exactly these properties, all required; `optional` ones may be left out. */
const object = (properties: Record<string, SchemaObject>, extra: Partial<SchemaObject> = {}, optional: Record<string, SchemaObject> = {}): SchemaObject => ({
  type: 'object',
  required: Object.keys(properties),
  additionalProperties: false,
  properties: { ...properties, ...optional },
  ...extra,
});
const uuid: SchemaObject = { type: 'string', format: 'uuid' };
const time: SchemaObject = { type: 'string', format: 'date-time' };
const int: SchemaObject = { type: 'integer', minimum: 0 };

/** The schemas every endpoint shares: the error body and the operation a mutation answers with. */
export const SHARED_SCHEMAS: Record<string, SchemaObject> = {
  Error: object({
    error: object({
      code: { type: 'string', enum: Object.keys(API_ERRORS), description: 'A code of the error catalogue (the README lists each with its meaning)' },
      message: { type: 'string', description: 'What went wrong and what to do about it' },
      details: { type: 'object', additionalProperties: true, description: 'Machine-readable context: the fields, ids, statuses the message names' },
    }),
  }),
  OperationStep: object({
    name: { type: 'string' },
    status: { type: 'string', enum: Object.keys(STEP_STATUS_MEANINGS) },
    startedAt: nullable(time),
    finishedAt: nullable(time),
    attempts: int,
    error: nullable({ type: 'string' }),
  }),
  Operation: object(
    {
      id: uuid,
      type: { type: 'string', enum: [...OPERATION_TYPES] },
      status: { type: 'string', enum: [...OPERATION_STATUSES] },
      vmId: nullable(uuid),
      createdAt: time,
      updatedAt: time,
      finishedAt: nullable(time),
      deadline: nullable(time),
      overdue: { type: 'boolean', description: 'Still running past its deadline: someone should look at it' },
      progress: object({
        step: nullable({ type: 'string' }),
        stepsDone: int,
        stepsTotal: int,
        percent: { type: 'integer', minimum: 0, maximum: 100 },
        stepPercent: nullable({ type: 'number', minimum: 0, maximum: 100 }),
        stepBytes: nullable(object({ transferred: int, total: int })),
        children: nullable(object({ succeeded: int, failed: int, remaining: int })),
      }),
      steps: { type: 'array', items: { $ref: '#/components/schemas/OperationStep' } },
      error: nullable(object({ code: { type: 'string', description: 'A code of the operation error catalogue' }, message: { type: 'string' }, step: nullable({ type: 'string' }) })),
      mayCancel: { type: 'boolean' },
      pointOfNoReturn: nullable({ type: 'string' }),
      waiting: nullable(object({ for: { type: 'string' }, step: { type: 'string' }, until: time })),
      children: { type: 'array', items: object({ step: { type: 'string' }, operationId: uuid, vmId: uuid, status: { type: 'string' }, link: { type: 'string' } }) },
      resources: object({ vms: { type: 'array', items: { type: 'string' } } }),
      links: object({ self: { type: 'string' }, vm: nullable({ type: 'string' }), temporalUi: { type: 'string' } }),
    },
    { description: 'An operation: a workflow run on the caller’s behalf, its steps and how it ended' },
    // An interface's detach or delete that leaves the VM without one says so (the operation still runs).
    { warnings: { type: 'array', items: { type: 'string' } } },
  ),
};

SHARED_SCHEMAS.Vm = object(
  {
    id: uuid,
    hostname: { type: 'string' },
    label: nullable({ type: 'string' }),
    note: nullable({ type: 'string' }),
    cpus: { type: 'integer', minimum: 1 },
    memoryMb: { type: 'integer', minimum: 1 },
    status: { type: 'string', enum: [...VM_STATUSES] },
    frozen: { type: 'boolean' },
    pendingSize: nullable(object({ cpus: { type: 'integer' }, memoryMb: { type: 'integer' } })),
    locked: { type: 'boolean' },
    currentOperationId: nullable(uuid),
    nodeId: uuid,
    templateId: nullable(uuid),
    disks: { type: 'array', items: object({ id: uuid, position: nullable(int), sizeGb: { type: 'integer', minimum: 1 } }) },
    interfaces: {
      type: 'array',
      items: object({ id: uuid, position: nullable(int), mac: { type: 'string' }, network: { type: 'string' }, ipAddress: nullable({ type: 'string' }) }),
    },
    createdAt: time,
    updatedAt: time,
    links: object({ self: { type: 'string' }, operations: { type: 'string' } }),
  },
  { description: 'A VM as the inventory records it' },
  // With ?live=true on the list: the VM as its node has it now, or why it could not be read.
  { live: { nullable: true, type: 'object', additionalProperties: true } },
);

/** A keyset page of `item`: `nextCursor` continues it; `total` only with ?total=true. */
const pageOf = (item: string): SchemaObject =>
  object({ items: { type: 'array', items: { $ref: `#/components/schemas/${item}` } }, limit: int, offset: int, nextCursor: nullable({ type: 'string' }) }, {}, { total: int });
SHARED_SCHEMAS.VmPage = pageOf('Vm');
SHARED_SCHEMAS.OperationPage = pageOf('Operation');

/** The reads whose 200 answers a schema of SHARED_SCHEMAS. */
const READ_SCHEMAS: Record<string, Record<string, string>> = {
  '/v1/vms': { get: 'VmPage' },
  '/v1/vms/{id}': { get: 'Vm' },
  '/v1/operations': { get: 'OperationPage' },
  '/v1/vms/{id}/operations': { get: 'OperationPage' },
};

/** Operations of the API that answer with an operation (202 and the reads of operations). */
const OPERATION_RESPONSES: Record<string, string[]> = {
  '/v1/operations/{id}': ['get'],
  '/v1/operations/{id}/wait': ['get'],
  '/v1/operations/{id}/cancel': ['post'],
  '/v1/operations/{id}/finalize': ['post'],
};

/**
 * Path parameters as the API checks them (uuidParam, serialParam, name rules), which Nest's document leaves plain
 * strings: every `{id}` and `{…Id}` is a UUID (a simulator fault's id, a positive integer), `{name}` a resource name.
 */
export function describePathParameters(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const operation of Object.values(item) as OperationObject[]) {
      for (const parameter of (operation?.parameters ?? []) as ParameterObject[]) {
        if (parameter.in !== 'path') continue;
        if (parameter.name === 'id' || parameter.name.endsWith('Id')) {
          parameter.schema = path.includes('/simulator/faults/')
            ? { type: 'integer', minimum: 1, maximum: 2147483647 }
            : { type: 'string', format: 'uuid' };
        } else if (parameter.name === 'name') {
          parameter.schema = { type: 'string', minLength: 1 };
        }
      }
    }
  }
}

/**
 * What each operation answers: the operation schema where it answers with one, and its error responses, each
 * listing the catalogue's codes it may answer with. The codes come from the endpoint's own description (a code it
 * names) and from what every endpoint of its kind may answer (401 with a key, 400 for its input, 404 for an id in the
 * path, 412 for a value naming what does not exist, 409 VM_BUSY / 423 VM_STUCK for an operation on a VM, 422 and 503 for a mutation). A description naming a
 * code the catalogue lacks stops the API from starting: no code is documented that the catalogue does not define.
 */
export function describeResponses(document: OpenAPIObject): void {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...SHARED_SCHEMAS } };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, OperationObject][]) {
      const responses = operation.responses as Record<string, ResponseObject>;
      // A 202 that starts an operation answers with it (a schedule's run answers with the schedule's action instead).
      const mutation = /operation/i.test(responses['202']?.description ?? '');
      if (mutation || OPERATION_RESPONSES[path]?.includes(method)) {
        for (const status of mutation ? ['202'] : Object.keys(responses).filter((s) => s.startsWith('2'))) {
          responses[status] = { ...responses[status], content: { 'application/json': { schema: { $ref: '#/components/schemas/Operation' } } } };
        }
      }
      // The codes its texts name: summary, description, and error responses a decorator declared (AdminOnly: 403).
      const declared = Object.entries(responses).filter(([status]) => Number(status) >= 400).map(([, r]) => r.description);
      const read = READ_SCHEMAS[path]?.[method];
      if (read && responses['200']) responses['200'] = { ...responses['200'], content: { 'application/json': { schema: { $ref: `#/components/schemas/${read}` } } } };
      const codes = new Set<ApiErrorCode>(codesNamedIn([operation.summary, operation.description, ...declared].join(' '), `${method.toUpperCase()} ${path}`));
      if (operation.security?.length) codes.add('UNAUTHENTICATED');
      if ((operation as { 'x-admin-only'?: boolean })['x-admin-only']) codes.add('ADMIN_REQUIRED');
      if (operation.parameters?.length || operation.requestBody) codes.add('VALIDATION_FAILED');
      // A value naming something that does not exist or cannot be used (a template, node, disk; an option).
      if (operation.requestBody || operation.parameters?.some((p) => (p as ParameterObject).in === 'query')) codes.add('INVALID_PARAMETER');
      if (/\{[^}]+\}/.test(path)) codes.add('NOT_FOUND');
      if (operation.requestBody) ['BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'].forEach((c) => codes.add(c as ApiErrorCode));
      if (mutation) {
        ['IDEMPOTENCY_KEY_REUSED', 'TEMPORAL_UNAVAILABLE'].forEach((c) => codes.add(c as ApiErrorCode));
        if (path.startsWith('/v1/vms/{id}')) ['VM_BUSY', 'VM_STUCK'].forEach((c) => codes.add(c as ApiErrorCode));
      }
      codes.add('DATABASE_UNAVAILABLE');
      const byStatus = new Map<number, ApiErrorCode[]>();
      for (const code of codes) byStatus.set(API_ERRORS[code].status, [...(byStatus.get(API_ERRORS[code].status) ?? []), code]);
      for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
        responses[String(status)] = {
          description: list.map((code) => `${code}: ${API_ERRORS[code].meaning}`).join('\n\n'),
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        };
      }
    }
  }
}

/** The catalogue codes a text names (a word of capitals that is a code); a "4xx WORD" that is no code is an error. */
function codesNamedIn(text: string, where: string): ApiErrorCode[] {
  for (const [, status, word] of text.matchAll(/\b([1-5]\d\d) ([A-Z][A-Z_]{2,})\b/g)) {
    const entry = API_ERRORS[word as ApiErrorCode];
    if (!entry || entry.status !== Number(status)) throw new Error(`${where} documents ${status} ${word}, which the error catalogue does not define with that status`);
  }
  return [...text.matchAll(/\b[A-Z][A-Z_]{2,}\b/g)].map(([word]) => word).filter((word): word is ApiErrorCode => word in API_ERRORS);
}
