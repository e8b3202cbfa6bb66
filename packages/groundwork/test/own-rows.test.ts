import { eq, sql } from 'drizzle-orm';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ownRowRoutes } from '../src/auth/own-row-routes.ts';
import type { Caller, CallerGuard } from '../src/database/callers.ts';
import { rowById } from '../src/database/row-by-id.ts';
import type { AppServer } from '../src/http/app-server.ts';
import { IdParams } from '../src/http/params.ts';
import { setupTestApp } from '../src/testing/index.ts';
import notes from './support/notes/src/app.ts';
import { authors, notes as notesTable } from './support/notes/src/schema.ts';

const t = setupTestApp(notes);

/** A guard that owns a row when its owner column holds `author` (the foundation's guards read a credential). */
const authorGuard: CallerGuard = { name: 'author', condition: (owner, v) => sql`${owner} = ${v.author}` };

function callerOf(author: string): Caller & { confirmed: number } {
  const caller = {
    guard: authorGuard,
    values: { author },
    confirmed: 0,
    confirm: () => {
      caller.confirmed += 1;
    },
  };
  return caller;
}

async function twoAuthorsNotes() {
  const [ann, bob] = await t.db
    .insert(authors)
    .values([{ email: 'ann@example.com' }, { email: 'bob@example.com' }])
    .returning();
  const [note, starred] = await t.db
    .insert(notesTable)
    .values([
      { authorId: ann!.id, body: 'draft' },
      { authorId: ann!.id, body: 'kept', stars: 5 },
    ])
    .returning();
  return { ann: ann!, bob: bob!, note: note!, starred: starred! };
}

describe('rowById', () => {
  const byId = () =>
    rowById(t.db, {
      name: 'notes_row',
      table: notesTable,
      id: notesTable.id,
      owner: notesTable.authorId,
      where: sql`${notesTable.stars} < 5`,
    });

  it('finds and updates a row by its key, on the pool and inside a transaction', async () => {
    const { note } = await twoAuthorsNotes();
    const rows = byId();
    expect(await rows.find({ id: note.id })).toMatchObject({ id: note.id, body: 'draft' });
    expect(await rows.update({ id: note.id }, { body: 'final' })).toMatchObject({ body: 'final', stars: 0 });
    await t.db.transaction(async (tx) => {
      expect(await rows.update({ id: note.id }, { stars: 2 }, tx)).toMatchObject({ body: 'final', stars: 2 });
      expect(await rows.find({ id: note.id }, tx)).toMatchObject({ stars: 2 });
    });
    const [stored] = await t.db.select().from(notesTable).where(eq(notesTable.id, note.id));
    expect(stored).toMatchObject({ body: 'final', stars: 2 });
  });

  it('leaves rows outside `where` unseen and unchanged', async () => {
    const { starred } = await twoAuthorsNotes();
    const rows = byId();
    expect(await rows.find({ id: starred.id })).toBeUndefined();
    expect(await rows.update({ id: starred.id }, { body: 'changed' })).toBeUndefined();
    const [stored] = await t.db.select().from(notesTable).where(eq(notesTable.id, starred.id));
    expect(stored!.body).toBe('kept');
  });

  it("carries a caller's check on the owner column, confirming them only when a row is found", async () => {
    const { ann, bob, note } = await twoAuthorsNotes();
    const rows = byId();
    const owner = callerOf(ann.id);
    const stranger = callerOf(bob.id);
    expect(await rows.find({ id: note.id, caller: owner })).toMatchObject({ id: note.id });
    expect(await rows.find({ id: note.id, caller: stranger })).toBeUndefined();
    expect(await rows.update({ id: note.id, caller: stranger }, { body: 'stolen' })).toBeUndefined();
    await t.db.transaction(async (tx) => {
      expect(await rows.update({ id: note.id, caller: owner }, { body: 'mine' }, tx)).toMatchObject({
        body: 'mine',
      });
    });
    expect([owner.confirmed, stranger.confirmed]).toEqual([2, 0]);
  });
});

describe('ownRowRoutes', () => {
  /** The routes a declaration registers, with the ownership each declares. */
  async function declared(declare: (app: AppServer) => void) {
    const app = Fastify() as unknown as AppServer;
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    const routes: Record<string, unknown> = {};
    app.addHook('onRoute', (route) => {
      routes[`${route.method} ${route.url}`] = route.config;
    });
    declare(app);
    await app.ready();
    await app.close();
    return routes;
  }
  const Row = z.object({ id: z.uuid() });

  it('declares GET and PATCH checked in their statement, DELETE checked before it, each only when given', async () => {
    const all = await declared((app) =>
      ownRowRoutes(app, {
        tags: ['rows'],
        params: IdParams,
        entity: 'Row',
        response: { schema: Row, from: (row: { id: string }) => row },
        read: { summary: 'read', find: async () => undefined },
        update: { summary: 'update', body: z.object({}), apply: async () => undefined },
        remove: { summary: 'remove', remove: async () => false },
      }),
    );
    const inQuery = { auth: 'own', owner: { param: 'id', inQuery: true }, entity: 'Row' };
    expect(all).toEqual({
      'GET /:id': inQuery,
      'HEAD /:id': inQuery,
      'PATCH /:id': inQuery,
      'DELETE /:id': { auth: 'own', owner: { param: 'id' }, entity: 'Row' },
    });
    const removeOnly = await declared((app) =>
      ownRowRoutes(app, {
        tags: ['rows'],
        params: IdParams,
        entity: 'Row',
        remove: { summary: 'remove', remove: async () => false },
      }),
    );
    expect(Object.keys(removeOnly)).toEqual(['DELETE /:id']);
  });
});
