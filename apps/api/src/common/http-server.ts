import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import { ApiError } from './api-error';

/** The largest request body the API reads, in bytes (256 kB); a larger one is answered 413 PAYLOAD_TOO_LARGE. */
export const REQUEST_BODY_LIMIT_BYTES = 256 * 1024;
/** The same limit as the error messages name it. */
export const REQUEST_BODY_LIMIT = `${REQUEST_BODY_LIMIT_BYTES / 1024}kb`;

/** How paths match routes, kept as Express matched them: `/v1/VMs/` is `/v1/vms`. */
const ROUTER_OPTIONS = { ignoreTrailingSlash: true, caseSensitive: false } as const;

declare module 'fastify' {
  interface FastifyInstance {
    /** The methods the API's routes take on a path (for 405 and its Allow header); empty when no route matches it. */
    allowedMethods(path: string): string[];
  }
}

/**
 * The HTTP server under Nest: Fastify, whose router and JSON reply cost a single read a quarter less CPU than
 * Express's, and a page 7-9 % less (docs/performance.md, run 11). Bodies are read by `acceptJsonBodies`.
 */
export function createHttpAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: REQUEST_BODY_LIMIT_BYTES,
    routerOptions: { ...ROUTER_OPTIONS, maxParamLength: 1024 },
    // While the API closes, requests still in flight finish; Fastify's own 503 body is not the API's error shape.
    return503OnClosing: false,
    // A client gets 5 minutes to send its request, as Node's own server gives (Fastify's default is no limit at all).
    requestTimeout: 300_000,
    // A path Fastify cannot route (`/v1/vms/%zz`, a part over 1,024 characters): the API's 400, in its error shape.
    frameworkErrors: (error: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const body = new ApiError('BAD_REQUEST', "the request's path is not valid: a part of it does not decode or is over 1024 characters", {
        reason: error.code,
      }).toBody();
      void reply.code(400).send(body);
    },
  });
}

/**
 * What the API reads as a body: JSON in UTF-8, an object or an array at its top (as Express's body parser read it),
 * at most REQUEST_BODY_LIMIT_BYTES, not compressed; an empty body is `{}`. Any other media type, charset or encoding is
 * 415; JSON that does not parse, 400.
 * JSON.parse makes a `"__proto__"` key an own field, which the validation pipe refuses by name.
 */
export function acceptJsonBodies(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: REQUEST_BODY_LIMIT_BYTES }, (req, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(
        new ApiError('UNSUPPORTED_MEDIA_TYPE', `unsupported charset "${charset}": send JSON in UTF-8 (Content-Type: application/json)`),
        undefined,
      );
      return;
    }
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      done(new ApiError('UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Encoding "${encoding}": send the body uncompressed`), undefined);
      return;
    }
    const text = String(body);
    if (text.trim() === '') {
      done(null, {});
      return;
    }
    if (!/^\s*[{[]/.test(text)) {
      done(new ApiError('BAD_REQUEST', 'the body must be a JSON object'), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new ApiError('BAD_REQUEST', `the body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}

/**
 * Keeps a table of the routes as they are registered (Fastify's own router answers only "this method on this path"),
 * so that a path taken with another method is answered 405 with the methods it takes. Call before the app's init.
 */
export function trackRoutes(fastify: FastifyInstance): void {
  const table = FindMyWay(ROUTER_OPTIONS);
  const noop = () => undefined;
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (!table.hasRoute(method as FindMyWay.HTTPMethod, route.url)) table.on(method as FindMyWay.HTTPMethod, route.url, noop);
    }
  });
  fastify.decorate('allowedMethods', (path: string): string[] => {
    const methods = new Set<string>();
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
      try {
        if (table.find(method, path)) methods.add(method);
      } catch {
        return []; // a path that does not decode (%zz) matches nothing
      }
    }
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  });
}

/** The request's path, without its query. */
export function pathOf(req: FastifyRequest): string {
  const url = req.url;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
