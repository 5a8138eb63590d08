import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { Optional } from '../common/validation';

const TIMEOUT = { min: 1, max: 3600 };
const TIMEOUT_DOC = 'Seconds the guest gets to power off after the ACPI shutdown; default 180, 300 for Windows templates';

export class StartVmDto {
  @ApiPropertyOptional({ example: 'debian-12-netinst.iso', description: 'Boot once from this ISO image' })
  @Optional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,126}\.iso$/, {
    message: 'bootIso must be an ISO image name: letters, digits, dots, dashes, underscores, ending in .iso',
  })
  bootIso?: string;
}

export class ShutdownVmDto {
  @ApiPropertyOptional({ minimum: TIMEOUT.min, maximum: TIMEOUT.max, description: TIMEOUT_DOC })
  @Optional()
  @IsInt()
  @Min(TIMEOUT.min)
  @Max(TIMEOUT.max)
  timeoutSeconds?: number;
}

export class StopVmDto extends ShutdownVmDto {
  @ApiPropertyOptional({ default: false, description: 'Skip the graceful part: power off (stop) or hard-reset (reboot) at once' })
  @Optional()
  @IsBoolean()
  force?: boolean;
}
