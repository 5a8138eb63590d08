import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createVmopsClient, type VmopsClient } from '@vmops/client';
import { API_ERRORS } from '@vmops/contracts';

/**
 * Every answer the tests get from the API, held against the OpenAPI document the repository publishes
 * (openapi.json): its status is one the endpoint documents, an error's code is in the catalogue with that status,
 * and a body the document describes matches its schema. A mismatch fails the test that made the call.
 */
interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: object }> }> }>>;
  components: object;
}

let loaded: { doc: Doc; routes: { pattern: RegExp; path: string }[]; ajv: Ajv; validators: Map<string, ValidateFunction> } | null = null;

function load() {
  if (loaded) return loaded;
  const doc = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi.json'), 'utf8')) as Doc;
  const routes = Object.keys(doc.paths)
    .map((path) => ({ path, pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`) }))
    // A literal segment wins over a parameter (/v1/vms/count before /v1/vms/{id}).
    .sort((a, b) => (b.path.match(/\{/g)?.length ?? 0) - (a.path.match(/\{/g)?.length ?? 0))
    .reverse();
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  loaded = { doc, routes, ajv, validators: new Map() };
  return loaded;
}

/** An answer's text as the tests read it (JSON when it is, else the text itself), held to the document by checkAnswer. */
export function checkedBody(method: string, url: string, status: number, text: string): unknown {
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: checked, and seen by the test, as it is
  }
  checkAnswer(method, url, status, parsed);
  return parsed;
}

export function checkAnswer(method: string, url: string, status: number, body: unknown): void {
  const { doc, routes, ajv, validators } = load();
  const where = `${method} ${url} answered ${status}`;
  if (status >= 400) {
    const code = (body as { error?: { code?: string } })?.error?.code;
    const entry = code ? API_ERRORS[code as keyof typeof API_ERRORS] : undefined;
    if (!entry || entry.status !== status)
      throw new Error(`${where} with code ${code}, which the error catalogue does not define with that status`);
  }
  const path = url.split('?')[0];
  const route = routes.find((r) => r.pattern.test(path));
  const operation = route && doc.paths[route.path][method.toLowerCase()];
  if (!operation) return; // a route the API does not have (404, 405): the catalogue check above is all there is
  const response = operation.responses[String(status)];
  if (!response) {
    throw new Error(
      `${where}, a status ${method} ${route.path} does not document (it documents ${Object.keys(operation.responses).join(', ')}): ${JSON.stringify(body).slice(0, 500)}`,
    );
  }
  const schema = response.content?.['application/json']?.schema;
  if (!schema || body === null || typeof body !== 'object') return;
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile({ components: doc.components, allOf: [schema] });
    validators.set(key, validate);
  }
  if (!validate(body)) throw new Error(`${where} with a body that does not match the document: ${ajv.errorsText(validate.errors)}`);
}

/**
 * The typed client (@vmops/client, generated from openapi.json) as the tests use it: every answer it receives is
 * held against the document by checkAnswer, like those of the untyped helpers.
 */
export function checkedClient(baseUrl: string, apiKey?: string): VmopsClient {
  const client = createVmopsClient({ baseUrl, apiKey });
  client.use({
    async onResponse({ request, response }) {
      if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) return response;
      const url = new URL(request.url);
      checkedBody(request.method, url.pathname + url.search, response.status, await response.clone().text());
      return response;
    },
  });
  return client;
}
