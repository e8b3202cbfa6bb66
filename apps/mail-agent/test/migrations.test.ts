import { describeMigrations } from 'groundwork/testing';
import app from '../src/app.ts';

describeMigrations(app);
