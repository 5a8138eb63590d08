/** Gigas rule: up to 25 characters of letters, digits and dashes, not starting with a digit. */
export const HOSTNAME_PATTERN = /^(?![0-9])[A-Za-z0-9-]{1,25}$/;

export const HOSTNAME_RULE = 'hostname must be 1-25 characters of letters, digits and dashes, and must not start with a digit';

export function isValidHostname(hostname: string): boolean {
  return HOSTNAME_PATTERN.test(hostname);
}

/** Gigas' initial root password rule: 6-32 letters, digits, dashes and underscores. */
export const ROOT_PASSWORD_PATTERN = /^[A-Za-z0-9_-]{6,32}$/;
export const ROOT_PASSWORD_RULE = 'rootPassword must be 6-32 letters, digits, dashes (-) and underscores (_)';

/** Network names: lower-case letters, digits and dashes, starting with a letter. */
export const NETWORK_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** A locally administered, unicast MAC derived from an interface id (stable: retries derive the same one). */
export function macFromId(id: string): string {
  const hex = id.replace(/-/g, '').slice(-10).padStart(10, '0');
  return ['52', ...hex.match(/../g)!].join(':');
}
