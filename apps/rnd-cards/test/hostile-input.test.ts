import { describeHostileInput } from 'groundwork-pg/testing/fuzz';
import app from '../src/app.ts';

// A seeded share of `npm run fuzz` (issue 11): generated hostile requests from the app's OpenAPI document.
describeHostileInput(app, { runs: 150 });
