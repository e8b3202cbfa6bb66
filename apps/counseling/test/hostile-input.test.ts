import { describeHostileInput } from 'groundwork-pg/testing/fuzz';
import app from '../src/app.ts';

// A seeded share of `npm run fuzz`: requests generated from the app's OpenAPI document, hostile and valid,
// each answer held to the document (a listed status, the documented body, no valid request refused).
describeHostileInput(app, { runs: 500 });
