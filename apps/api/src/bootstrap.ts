import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '@vmops/config';
import { AppModule } from './app.module';
import { createValidationPipe, REQUEST_BODY_LIMIT } from './common/validation';

/** Builds the API exactly as production runs it; main.ts and the integration tests both use this. */
export async function createApiApp(config: AppConfig, options: { logger?: false } = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forConfig(config), {
    logger: options.logger ?? ['log', 'warn', 'error'],
  });
  app.useGlobalPipes(createValidationPipe());
  app.useBodyParser('json', { limit: REQUEST_BODY_LIMIT });
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('vmops API')
      .setDescription(
        'VM operations over Temporal workflows. Every mutating call answers 202 with an operation and a Location header; ' +
          'errors have one shape: { "error": { "code", "message", "details" } }.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Your API key' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  return app;
}
