import { describeHostileInput } from 'groundwork-pg/testing/fuzz';
import app from '../src/app.ts';
import { vector } from './support.ts';

// A seeded share of `npm run fuzz` (issue 11): generated hostile requests from the app's OpenAPI document.
// The app's first migration needs pgvector, which a server may lack.
describeHostileInput(app, { runs: 150, skip: vector.available ? undefined : vector.reason });
