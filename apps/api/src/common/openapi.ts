import type { OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject, ParameterObject, ResponseObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { API_ERRORS, type ApiErrorCode } from '@vmops/contracts';
import { RESPONSE_SCHEMAS, SHARED_SCHEMAS } from './openapi-schemas';

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

/** Every 503 says when to try again (see ApiExceptionFilter). */
const RETRY_AFTER: ResponseObject['headers'] = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } },
};

/** The simulator's admin endpoints: served only where the nodes run it (config.simulatorEndpoints). */
const SIMULATOR_PATHS = '/v1/admin/simulator/';

/**
 * What each operation answers: the operation schema where it answers with one, and its error responses, each
 * listing the catalogue's codes it may answer with. The codes come from the endpoint's own description (a code it
 * names) and from what every endpoint of its kind may answer (401 with a key, 400 for its input, 404 for an id in the
 * path, 412 for a value naming what does not exist, 409 VM_BUSY / 423 VM_STUCK for an operation on a VM, 422 and 503 for a mutation). A description naming a
 * code the catalogue lacks stops the API from starting: no code is documented that the catalogue does not define.
 */
export function describeResponses(document: OpenAPIObject): void {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...SHARED_SCHEMAS } };
  // A property Nest could not type (an initialised field without a type: `limit = 50`) reads as the schema `Object`.
  for (const [path, item] of Object.entries(document.paths)) {
    if (JSON.stringify(item).includes('"#/components/schemas/Object"'))
      throw new Error(`${path} has a parameter or field of no type: give its @ApiProperty a type`);
  }
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    for (const [field, property] of Object.entries(
      (schema as { properties?: Record<string, { type?: string; properties?: unknown; additionalProperties?: unknown }> }).properties ?? {},
    )) {
      if (property.type === 'object' && !property.properties && property.additionalProperties === undefined)
        throw new Error(`${name}.${field} has no type: give its @ApiProperty a type`);
    }
  }
  // RESPONSE_SCHEMAS names the simulator's endpoints; an API that does not serve them is not wrong.
  const simulatorServed = Object.keys(document.paths).some((path) => path.startsWith(SIMULATOR_PATHS));
  for (const key of Object.keys(RESPONSE_SCHEMAS)) {
    const [method, path] = key.split(' ');
    if (path.startsWith(SIMULATOR_PATHS) && !simulatorServed) continue;
    if (!document.paths[path]?.[method.toLowerCase() as 'get'])
      throw new Error(`RESPONSE_SCHEMAS names ${key}, which the API does not have`);
  }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, OperationObject][]) {
      const responses = operation.responses as Record<string, ResponseObject>;
      const where = `${method.toUpperCase()} ${path}`;
      // A 202 that starts an operation answers with it (a schedule's run answers with the schedule's action instead).
      const mutation = /operation/i.test(responses['202']?.description ?? '');
      for (const [status, response] of Object.entries(responses)) {
        if (!status.startsWith('2') || status === '204') continue;
        const schema = successSchema(where, status, response, mutation);
        if (schema) responses[status] = { ...response, content: schema };
      }
      // The codes its texts name: summary, description, and error responses a decorator declared (AdminOnly: 403).
      const declared = Object.entries(responses)
        .filter(([status]) => Number(status) >= 400)
        .map(([, r]) => r.description);
      const codes = new Set<ApiErrorCode>(codesNamedIn([operation.summary, operation.description, ...declared].join(' '), where));
      if (operation.security?.length) codes.add('UNAUTHENTICATED');
      if ((operation as { 'x-admin-only'?: boolean })['x-admin-only']) codes.add('ADMIN_REQUIRED');
      if (operation.parameters?.length || operation.requestBody) codes.add('VALIDATION_FAILED');
      // A value naming something that does not exist or cannot be used (a template, node, disk; an option).
      if (operation.requestBody || operation.parameters?.some((p) => (p as ParameterObject).in === 'query')) codes.add('INVALID_PARAMETER');
      if (/\{[^}]+\}/.test(path)) codes.add('NOT_FOUND');
      if (operation.requestBody)
        ['BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'].forEach((c) => codes.add(c as ApiErrorCode));
      if (mutation) {
        ['IDEMPOTENCY_KEY_REUSED', 'TEMPORAL_UNAVAILABLE'].forEach((c) => codes.add(c as ApiErrorCode));
        if (path.startsWith('/v1/vms/{id}')) ['VM_BUSY', 'VM_STUCK'].forEach((c) => codes.add(c as ApiErrorCode));
      }
      codes.add('DATABASE_UNAVAILABLE');
      codes.add('API_BUSY');
      const byStatus = new Map<number, ApiErrorCode[]>();
      for (const code of codes) byStatus.set(API_ERRORS[code].status, [...(byStatus.get(API_ERRORS[code].status) ?? []), code]);
      for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
        responses[String(status)] = {
          description: list.map((code) => `${code}: ${API_ERRORS[code].meaning}`).join('\n\n'),
          ...(status === 503 ? { headers: RETRY_AFTER } : {}),
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        };
      }
    }
  }
}

/** A 2xx answer's content: the operation a mutation starts, a dry run's plan, or the endpoint's schema (none: an error). */
function successSchema(where: string, status: string, response: ResponseObject, mutation: boolean): ResponseObject['content'] | null {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (name: string | string[]) => ({
    'application/json': { schema: Array.isArray(name) ? { oneOf: name.map(ref) } : ref(name) },
  });
  if (status === '202' && mutation) return json('Operation');
  if (/^With dryRun=true/.test(response.description)) return json('DryRun');
  const name = RESPONSE_SCHEMAS[where]?.[status];
  if (name) return json(name);
  if (where === 'GET /v1/events') {
    return {
      'text/event-stream': {
        schema: {
          type: 'string',
          description: 'Server-sent events: `event: operation`, `id`, and `data` an OperationEvent (components/schemas/OperationEvent)',
        },
      },
    };
  }
  if (response.content) return null; // documented where it is declared (the health check's own schema)
  throw new Error(`${where} answers ${status} with no schema: add it to RESPONSE_SCHEMAS (apps/api/src/common/openapi-schemas.ts)`);
}

/** The catalogue codes a text names (a word of capitals that is a code); a "4xx WORD" that is no code is an error. */
function codesNamedIn(text: string, where: string): ApiErrorCode[] {
  for (const [, status, word] of text.matchAll(/\b([1-5]\d\d) ([A-Z][A-Z_]{2,})\b/g)) {
    const entry = API_ERRORS[word as ApiErrorCode];
    if (!entry || entry.status !== Number(status))
      throw new Error(`${where} documents ${status} ${word}, which the error catalogue does not define with that status`);
  }
  return [...text.matchAll(/\b[A-Z][A-Z_]{2,}\b/g)].map(([word]) => word).filter((word): word is ApiErrorCode => word in API_ERRORS);
}
