/** Gigas rule: up to 25 characters of letters, digits and dashes, not starting with a digit. */
export const HOSTNAME_PATTERN = /^(?![0-9])[A-Za-z0-9-]{1,25}$/;

export const HOSTNAME_RULE =
  'hostname must be 1-25 characters of letters, digits and dashes, and must not start with a digit';

export function isValidHostname(hostname: string): boolean {
  return HOSTNAME_PATTERN.test(hostname);
}
