import { describeMigrations } from 'groundwork-pg/testing';
import app from '../src/app.ts';

describeMigrations(app);
