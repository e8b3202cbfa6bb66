/**
 * Sample rows for a fresh database (`groundwork db seed`; `npm start` runs it on a new embedded database):
 * a grant writer with one batch of two R&D project cards, one generated (with its sections and generation
 * cost) and one still pending. Fixed ids, so rerunning adds nothing; the batch's quality score is kept by
 * the database's own trigger.
 */
import { defineSeed } from 'groundwork-pg';
import * as schema from './schema.ts';

const USER = '5eed0000-0000-4000-8000-000000000001';
const BATCH = '5eed0000-0000-4000-8000-000000000002';
const GENERATED = '5eed0000-0000-4000-8000-000000000003';
const PENDING = '5eed0000-0000-4000-8000-000000000004';

export default defineSeed<typeof schema>(async ({ db }) => {
  await db
    .insert(schema.users)
    .values({
      id: USER,
      email: 'anna@rnd-cards.example',
      name: 'Anna Wiśniewska',
      company: 'Bioplast Sp. z o.o.',
      cognitoSub: 'seed-cognito-anna',
    })
    .onConflictDoNothing();
  await db
    .insert(schema.batches)
    .values({ id: BATCH, userId: USER, name: 'Ulga B+R 2026', status: 'processing', totalProjects: 2 })
    .onConflictDoNothing();
  await db
    .insert(schema.projects)
    .values([
      {
        id: GENERATED,
        batchId: BATCH,
        rowNumber: 1,
        status: 'completed',
        qualityScore: 82,
        inputData: { title: 'Biodegradowalna folia z odpadów skrobiowych', budget: 240000 },
        aiModel: 'claude',
      },
      {
        id: PENDING,
        batchId: BATCH,
        rowNumber: 2,
        inputData: { title: 'Czujnik wilgotności do magazynów zboża', budget: 90000 },
      },
    ])
    .onConflictDoNothing();
  await db
    .insert(schema.projectContents)
    .values({
      projectId: GENERATED,
      sections: {
        nazwa_projektu: 'Biodegradowalna folia z odpadów skrobiowych',
        cel_projektu: 'Opracowanie folii opakowaniowej rozkładającej się w 90 dni.',
        opis_projektu: 'Prace nad recepturą i procesem wytłaczania folii ze skrobi odpadowej.',
        nowatorstwo: 'Wykorzystanie odpadów z przemysłu ziemniaczanego jako surowca.',
        metodologia: 'Seria prób laboratoryjnych, następnie linia pilotażowa.',
        rezultaty: 'Receptura, prototyp linii, raport z badań rozkładu.',
        koszty: 'Wynagrodzenia zespołu B+R, materiały, ekspertyzy.',
        harmonogram: 'Styczeń–grudzień 2026.',
      },
    })
    .onConflictDoNothing();
  await db
    .insert(schema.generationMetadata)
    .values({
      projectId: GENERATED,
      attempts: 1,
      totalInputTokens: 3200,
      totalOutputTokens: 2100,
      totalCostEur: 0.0412,
      averageLatencyMs: 18400,
      modelUsed: 'claude',
      completedAt: new Date('2026-11-20T10:15:00Z'),
    })
    .onConflictDoNothing();
});
