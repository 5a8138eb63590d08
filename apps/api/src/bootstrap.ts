import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { AppConfig } from '@vmops/config';
import { AppModule } from './app.module';
import { LaunchResponseInterceptor } from './operations/launch-response';
import { describePathParameters, describeResponses } from './common/openapi';
import { createValidationPipe } from './common/validation';
import { acceptJsonBodies, createHttpAdapter, trackRoutes } from './common/http-server';

/** Builds the API exactly as production runs it; main.ts and the integration tests both use this. */
export async function createApiApp(config: AppConfig, options: { logger?: false } = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(config), createHttpAdapter(), {
    logger: options.logger ?? ['log', 'warn', 'error'],
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  acceptJsonBodies(fastify);
  trackRoutes(fastify);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalInterceptors(new LaunchResponseInterceptor());
  app.enableShutdownHooks();

  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document);
  return app;
}

/** The OpenAPI document of the app's routes (served at /docs-json; written to openapi.json by `npm run openapi`). */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('vmops API')
      .setDescription(
        'VM operations over Temporal workflows. Every mutating call answers 202 with an operation and a Location header; ' +
          'errors have one shape: { "error": { "code", "message", "details" } }.',
      )
      .setVersion('1')
      .addBearerAuth({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key (vmo_…)',
        description: 'Your API key: Authorization: Bearer <key>',
      })
      .build(),
  );
  describePathParameters(document);
  describeResponses(document);
  return document;
}

/**
 * The document without a running API: the app built in Nest's preview mode (routes and their metadata, no provider
 * started, so no database or workflow service is needed).
 */
export async function previewOpenApiDocument(config: AppConfig): Promise<OpenAPIObject> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(config), createHttpAdapter(), {
    preview: true,
    logger: false,
  });
  try {
    return openApiDocument(app);
  } finally {
    await app.close();
  }
}
