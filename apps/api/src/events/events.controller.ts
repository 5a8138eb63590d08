import { Controller, Headers, HttpStatus, MessageEvent, Sse } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { map, type Observable } from 'rxjs';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { ApiError } from '../common/api-error';
import { OperationEventsService } from './operation-events.service';

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
  stream(@CurrentPrincipal() principal: Principal, @Headers('last-event-id') lastEventId?: string): Observable<MessageEvent> {
    if (lastEventId !== undefined && !/^\d{1,15}$/.test(lastEventId)) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Last-Event-ID must be an event id from this stream');
    }
    return this.events.stream(principal.tenantId, lastEventId === undefined ? null : Number(lastEventId), principal.apiKeyId).pipe(
      map(({ id, tenantId: _tenant, ...data }) => ({ id: String(id), type: 'operation', data })),
    );
  }
}
