import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsString, Matches, MaxLength } from 'class-validator';
import { ApiError } from './api-error';
import { PageQuery } from './page.query';
import { Optional } from './validation';

/**
 * ?limit=&offset=&cursor=&total= of the lists that grow without bound (VMs, operations). A page ends with
 * `nextCursor`: passed back as `cursor`, it continues right after the page's last item, at the cost of one index
 * read however deep the list goes (an offset costs a read of every item it skips). `total` is counted only when
 * asked for (`total=true`): counting is a read of every match.
 */
export class KeysetPageQuery extends PageQuery {
  @ApiPropertyOptional({ description: "The previous page's nextCursor: continue after its last item (offset must then be 0)" })
  @Optional()
  @IsString()
  @MaxLength(1000)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a nextCursor from an earlier page' })
  cursor?: string;

  @ApiPropertyOptional({ default: false, description: 'true: also count every match (total); a read of all of them' })
  @Optional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'total must be true or false' })
  total?: boolean;
}

/** One page of a keyset list: `total` only when asked for; `nextCursor` null on the last page. */
export interface KeysetPage<T> {
  items: T[];
  limit: number;
  offset: number;
  nextCursor: string | null;
  total?: number;
}

/** Where a page ends, in an order: the order's name, the key of the last item (as PostgreSQL prints it) and its tie-breaker. */
export interface Position {
  order: string;
  key: string;
  tie: string;
}

export function encodeCursor(order: string, key: string, tie: string): string {
  return Buffer.from(JSON.stringify([order, key, tie])).toString('base64url');
}

const badCursor = (why: string) =>
  new ApiError('VALIDATION_FAILED', `cursor ${why}: pass a page's nextCursor unchanged`, { field: 'cursor' });

/** The shapes of a cursor's key and tie-breaker in one order: what the cast in the page's SQL accepts. */
export interface CursorShape {
  key: RegExp;
  tie: RegExp;
}

export const CURSOR_PATTERNS = {
  // eslint-disable-next-line no-control-regex -- a NUL is what PostgreSQL text cannot hold: refused here, not a 500 there
  text: /^[^\u0000]{0,300}$/,
  integer: /^-?\d{1,10}$/,
  timestamp: /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2})?|Z)?$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
};

/** The position a cursor names, checked against the order of the request it comes with; 400 when it does not fit. */
export function decodeCursor(query: KeysetPageQuery, order: string, shape: CursorShape): Position | null {
  if (query.cursor === undefined) return null;
  if (query.offset !== 0) throw new ApiError('VALIDATION_FAILED', 'give cursor or offset, not both', { field: 'offset' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('is not one this API made');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((part) => typeof part === 'string'))
    throw badCursor('is not one this API made');
  const [cursorOrder, key, tie] = parsed as string[];
  if (cursorOrder !== order) throw badCursor(`belongs to a list in another order (${cursorOrder}, not ${order})`);
  if (!shape.key.test(key) || !shape.tie.test(tie)) throw badCursor('is not one this API made');
  return { order, key, tie };
}

/** A cursor's key that its SQL cast refuses after all (a 31st of February): the same 400 as any cursor not made here. */
export async function withCursorChecked<T>(cursor: Position | null, query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (err) {
    const code = (err as { code?: unknown; driverError?: { code?: unknown } }).driverError?.code ?? (err as { code?: unknown }).code;
    if (cursor && typeof code === 'string' && code.startsWith('22')) throw badCursor('is not one this API made');
    throw err;
  }
}
