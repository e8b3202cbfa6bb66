import { createServer } from 'node:http';

// CRASH=before: exits before listening; otherwise listens, then crashes 50 ms later.
if (process.env.CRASH === 'before') process.exit(3);
createServer().listen(0, '127.0.0.1', () => setTimeout(() => process.exit(3), 50));
