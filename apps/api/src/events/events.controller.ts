import { Controller, createParamDecorator, type ExecutionContext, MessageEvent, Sse } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { map, type Observable } from 'rxjs';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { ApiError } from '../common/api-error';
import { OperationEventsService } from './operation-events.service';

/** The Last-Event-ID header (read without @Headers, which the OpenAPI document would list as a second, required header). */
// eslint-disable-next-line no-useless-assignment -- used as a parameter decorator below, which the rule does not see
const LastEventId = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined => {
  const value = ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers['last-event-id'];
  return Array.isArray(value) ? value[0] : value;
});

@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: OperationEventsService) {}

  @Sse()
  @ApiOperation({
    summary: "Server-sent events: every state change of your tenant's operations, in order",
    description:
      'Each event is `operation` with { operationId, type, vmId, status, at }; its id resumes the stream through Last-Event-ID. ' +
      'The stream ends as soon as the key that opened it is revoked.',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' })
  stream(@CurrentPrincipal() principal: Principal, @LastEventId() lastEventId?: string): Observable<MessageEvent> {
    if (lastEventId !== undefined && !/^\d{1,15}$/.test(lastEventId)) {
      throw new ApiError('VALIDATION_FAILED', 'Last-Event-ID must be an event id from this stream');
    }
    return this.events
      .stream(principal.tenantId, lastEventId === undefined ? null : Number(lastEventId), principal.apiKeyId)
      .pipe(map(({ id, tenantId: _tenant, ...data }) => ({ id: String(id), type: 'operation', data })));
  }
}
