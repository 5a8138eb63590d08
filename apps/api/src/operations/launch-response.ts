import { HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import type { DryRunView, LaunchResult } from './operations.service';
import type { OperationView } from './operation.view';

/** 202 + Location for a started (or replayed) operation; 200 with the plan for a dry run. */
export function respondToLaunch(res: Response, result: LaunchResult): OperationView | DryRunView {
  if (result.kind === 'dryRun') {
    res.status(HttpStatus.OK);
    return result.plan;
  }
  res.status(HttpStatus.ACCEPTED).location(result.operation.links.self);
  return result.operation;
}
