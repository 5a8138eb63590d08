import createClient, { type Client } from 'openapi-fetch';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { components, paths } from './schema';

export type { components, operations, paths } from './schema';

/** The schemas of openapi.json, by name: `Schemas['Vm']`, `Schemas['Operation']`, … */
export type Schemas = components['schemas'];
export type Operation = Schemas['Operation'];
export type OperationStatus = Operation['status'];
export type OperationType = Operation['type'];
export type OperationEvent = Schemas['OperationEvent'];
export type ApiErrorBody = Schemas['Error'];
export type Vm = Schemas['Vm'];
export type DryRun = Schemas['DryRun'];

/** A mutation's answer: the plan (with ?dryRun=true, 200) or the operation it started (202). */
export function isDryRun(body: Operation | DryRun): body is DryRun {
  return (body as DryRun).dryRun === true;
}

/** The statuses an operation ends in: it changes nothing more (stuck waits for a human). */
export const FINAL_OPERATION_STATUSES: readonly OperationStatus[] = ['succeeded', 'failed', 'cancelled', 'compensated', 'stuck'];

export function isFinal(status: OperationStatus): boolean {
  return FINAL_OPERATION_STATUSES.includes(status);
}

export interface VmopsClientOptions {
  /** Where the API listens, e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** A fetch of your own (tests, proxies); the global one otherwise. */
  fetch?: typeof globalThis.fetch;
}

/** The typed client: `GET`, `POST`, … of openapi-fetch over the API's paths, with the key set on every request. */
export type VmopsClient = Client<paths> & { readonly baseUrl: string; readonly apiKey?: string; readonly fetch: typeof globalThis.fetch };

export function createVmopsClient(options: VmopsClientOptions): VmopsClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const client = createClient<paths>({ baseUrl, fetch: fetchImpl });
  if (options.apiKey) {
    const authorization = `Bearer ${options.apiKey}`;
    client.use({
      onRequest({ request }) {
        request.headers.set('authorization', authorization);
        return request;
      },
    });
  }
  return Object.assign(client, { baseUrl, apiKey: options.apiKey, fetch: fetchImpl });
}

/** An answer of 4xx/5xx: its status and the error catalogue's code, message and details. */
export class VmopsApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'VmopsApiError';
  }

  static of(response: Response, body: unknown): VmopsApiError {
    const error = (body as Partial<ApiErrorBody> | undefined)?.error;
    if (error?.code) return new VmopsApiError(response.status, error.code, error.message ?? error.code, error.details ?? {});
    return new VmopsApiError(response.status, `HTTP_${response.status}`, `${response.status} ${response.statusText}`.trim());
  }
}

/** The body of a successful answer, or the answer's VmopsApiError thrown. */
export async function unwrap<T>(
  result: Promise<{ data?: T; error?: unknown; response: Response }> | { data?: T; error?: unknown; response: Response },
): Promise<T> {
  const { data, error, response } = await result;
  if (!response.ok) throw VmopsApiError.of(response, error);
  return data as T;
}

/** The operation a mutation started (its 202); a dry run's plan (200) is no operation and throws. */
export async function started(result: Promise<{ data?: Operation | DryRun; error?: unknown; response: Response }>): Promise<Operation> {
  const body = await unwrap(result);
  if (isDryRun(body)) throw new Error(`a dry run of ${body.type} answered its plan: no operation was started`);
  return body;
}

/**
 * Waits for an operation to end (long-polling GET /v1/operations/{id}/wait, `timeoutSeconds` a call) and returns it
 * as it ended; `onUpdate` sees each view on the way. Gives up after `totalSeconds` (default: no limit).
 */
export async function waitForOperation(
  client: VmopsClient,
  id: string,
  options: { pollSeconds?: number; totalSeconds?: number; onUpdate?: (op: Operation) => void } = {},
): Promise<Operation> {
  const deadline = options.totalSeconds === undefined ? Infinity : Date.now() + options.totalSeconds * 1000;
  for (;;) {
    const op = await unwrap(
      client.GET('/v1/operations/{id}/wait', { params: { path: { id }, query: { timeout: options.pollSeconds ?? 30 } } }),
    );
    options.onUpdate?.(op);
    if (isFinal(op.status)) return op;
    if (Date.now() > deadline) throw new Error(`operation ${id} is still ${op.status}`);
  }
}

export interface EventStreamOptions {
  /** Resume after this event id (the `id` of the last event seen). */
  lastEventId?: string;
  signal?: AbortSignal;
}

/**
 * The tenant's operation events (GET /v1/events, server-sent events), as they happen, each with its event id. The
 * iteration ends when the server closes the stream or `signal` aborts; an error answer throws VmopsApiError.
 */
export async function* operationEvents(
  client: VmopsClient,
  options: EventStreamOptions = {},
): AsyncGenerator<OperationEvent & { eventId: string }> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (client.apiKey) headers.authorization = `Bearer ${client.apiKey}`;
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  let response: Response;
  try {
    response = await client.fetch(`${client.baseUrl}/v1/events`, { headers, signal: options.signal });
  } catch (err) {
    if (options.signal?.aborted) return;
    throw err;
  }
  if (!response.ok) throw VmopsApiError.of(response, await response.json().catch(() => undefined));
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length) {
        const event = queue.shift()!;
        if (event.event === 'operation') yield { ...(JSON.parse(event.data) as OperationEvent), eventId: event.id ?? '' };
      }
    }
  } catch (err) {
    if (options.signal?.aborted) return;
    throw err;
  } finally {
    reader.releaseLock();
    await response.body?.cancel().catch(() => undefined);
  }
}

/**
 * Follows one operation to its end over the event stream: `onUpdate` gets the operation's view when it starts, on
 * every event of it, and every `refreshMs` while it runs (steps and attempts change between status events; the refresh
 * also covers a change made before the stream was open). Views come in the order they were read, the final one last.
 * The final view is returned.
 */
export async function followOperation(
  client: VmopsClient,
  id: string,
  options: { onUpdate?: (op: Operation) => void; refreshMs?: number; signal?: AbortSignal } = {},
): Promise<Operation> {
  const abort = new AbortController();
  options.signal?.addEventListener('abort', () => abort.abort(), { once: true });
  const read = () => unwrap(client.GET('/v1/operations/{id}', { params: { path: { id } } }));
  let done: (op: Operation) => void = () => undefined;
  let failed: (err: unknown) => void = () => undefined;
  const ended = new Promise<Operation>((resolve, reject) => ((done = resolve), (failed = reject)));
  // Reads overlap (the timer's, an event's), and a read of a running operation takes longer than one of a finished
  // one (it asks the workflow for its progress): an answer older than one already shown is dropped, and nothing is
  // shown after the final view.
  let issued = 0;
  let shown = 0;
  let finished = false;
  const see = (op: Operation, seq = ++issued) => {
    if (finished || seq < shown) return;
    shown = seq;
    options.onUpdate?.(op);
    if (isFinal(op.status)) {
      finished = true;
      done(op);
    }
  };
  const refresh = () => {
    const seq = ++issued;
    return read().then((op) => see(op, seq), failed);
  };
  const events = operationEvents(client, { signal: abort.signal });
  const listening = (async () => {
    for await (const event of events) {
      if (event.operationId === id) await refresh();
    }
    // The server closed the stream (a restart): fall back to waiting.
    if (!abort.signal.aborted) see(await waitForOperation(client, id, { onUpdate: (op) => see(op) }));
  })().catch(failed);
  const timer = setInterval(() => void refresh(), options.refreshMs ?? 1000);
  try {
    await refresh();
    return await ended;
  } finally {
    clearInterval(timer);
    abort.abort();
    await listening;
  }
}
