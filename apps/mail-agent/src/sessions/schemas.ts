import { isoTimestamp, safeText } from 'groundwork-pg';
import { z } from 'zod';
import type { SessionRow } from './repository.ts';

export const SessionCreate = z
  .strictObject({
    name: safeText().trim().max(255).default(''),
  })
  .meta({ id: 'SessionCreate' });

export const SessionPublic = z
  .object({
    id: z.string(),
    user_id: z.number().int(),
    name: z.string(),
    created_at: z.string(),
  })
  .meta({ id: 'SessionPublic' });
export type SessionPublic = z.infer<typeof SessionPublic>;

export const SessionListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const SessionList = z.object({ items: z.array(SessionPublic) }).meta({ id: 'SessionList' });

export function toSessionPublic(row: SessionRow): SessionPublic {
  return { id: row.id, user_id: row.userId, name: row.name, created_at: isoTimestamp(row.createdAt) };
}
