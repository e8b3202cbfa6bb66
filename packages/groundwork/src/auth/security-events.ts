import type { FastifyRequest } from 'fastify';

/**
 * The security events an operator audits (ASVS 7.1.3, 7.2.1). The names are a stable interface: log queries,
 * alerts and metrics key on them, so add names rather than change them.
 */
export type SecurityEvent =
  /** A login refused for a wrong password or an unknown account (`reason`). */
  | 'auth.login_failed'
  /** A login refused by a limit before the password was checked (`limit`: address or account_address). */
  | 'auth.login_throttled'
  /** An account reached its failure limit from one address: that address waits for the window to end. */
  | 'auth.login_locked'
  | 'auth.registration_throttled'
  | 'auth.password_changed'
  /** Sessions ended by their user: one (`scope: one`), every other (`others`) or all (`all`). */
  | 'auth.sessions_revoked'
  | 'auth.password_reset_requested'
  | 'auth.password_reset_used';

export interface SecurityEventFields {
  /** The account as the client named it (never a password or token). */
  account?: string;
  userId?: string;
  reason?: string;
  limit?: string;
  scope?: string;
  count?: number;
}

/** Hooks that also receive every event (metrics); set once at start. */
const listeners: ((event: SecurityEvent, fields: SecurityEventFields) => void)[] = [];

export function onSecurityEvent(listener: (event: SecurityEvent, fields: SecurityEventFields) => void): void {
  listeners.push(listener);
}

/**
 * One log line per event, with the stable `event` field and the client's address. Warn level for refusals
 * and lockouts, info for what a user did to their own account.
 */
export function securityEvent(
  request: FastifyRequest,
  event: SecurityEvent,
  fields: SecurityEventFields = {},
): void {
  const line = { event, clientAddress: request.ip, ...fields };
  const refusal = event.endsWith('_failed') || event.endsWith('_throttled') || event.endsWith('_locked');
  if (refusal) request.log.warn(line, event);
  else request.log.info(line, event);
  for (const listener of listeners) listener(event, fields);
}
