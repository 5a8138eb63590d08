import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateIf } from 'class-validator';
import { ApiError } from './api-error';

interface FieldError {
  field: string;
  problems: string[];
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own: FieldError[] = e.constraints ? [{ field, problems: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Deeper input than any request of this API has; the validator walks input recursively. */
const MAX_INPUT_DEPTH = 32;

const invalid = (field: string, problem: string) =>
  new ApiError('VALIDATION_FAILED', `${field} ${problem}`, { fields: [{ field, problems: [problem] }] });

/**
 * Rejects input no handler can take, before the validator sees it (walked without recursion): nesting deeper
 * than MAX_INPUT_DEPTH, and text with a NUL character, which PostgreSQL refuses in any text value.
 */
export function assertAcceptableInput(value: unknown, where: string): void {
  const pending: { value: unknown; depth: number; field: string }[] = [{ value, depth: 0, field: where }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value === 'string') {
      if (next.value.includes('\u0000')) throw invalid(next.field, 'must not contain the NUL character');
      continue;
    }
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth >= MAX_INPUT_DEPTH) throw invalid(where, `nests deeper than ${MAX_INPUT_DEPTH} levels`);
    for (const [key, child] of Object.entries(next.value)) {
      if (key.includes('\u0000')) throw invalid(next.field, 'has a field name with the NUL character');
      // JSON.parse makes "__proto__" an own field; the validator's whitelist never sees it, so it is refused here.
      if (key === '__proto__') throw invalid(`${next.field}.${key}`, 'is not a field this request takes');
      pending.push({ value: child, depth: next.depth + 1, field: `${next.field}.${key}` });
    }
  }
}

/** The global pipe: acceptable input first (assertAcceptableInput), then class-validator's rules. */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') assertAcceptableInput(value, metadata.type);
    return super.transform(value, metadata);
  }
}

/** Unknown fields and wrong types are rejected, never coerced: `"2"` is not a number of CPUs. */
export function createValidationPipe(): ValidationPipe {
  return new RequestValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      const message = fields.map((f) => f.problems.join(', ')).join('; ') || 'the request is not valid';
      return new ApiError('VALIDATION_FAILED', message, { fields });
    },
  });
}

/**
 * An optional field: it may be left out, but `null` is validated like any other value (and so refused by the
 * field's rules). A field that takes `null` (to clear it) says so with its own ValidateIf.
 */
export const Optional = (): PropertyDecorator => ValidateIf((_, value) => value !== undefined);

/**
 * A query parameter that is a whole number, written in decimal digits only: `0x10`, `1e2`, ` 5` or an empty value stay
 * text and fail the field's IsInt (Number() would have read them as 16, 100, 5 and 0).
 */
export const DecimalInt = (): PropertyDecorator =>
  Transform(({ value }) => (typeof value === 'string' && /^(0|[1-9][0-9]{0,15})$/.test(value) ? Number(value) : value));
