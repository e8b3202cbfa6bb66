import { readYourWrites } from '../database/read-your-writes.ts';
import type { AppServer } from './app-server.ts';

const READING_METHODS = new Set(['GET', 'HEAD']);

/** Every route handler registered after this on `app` runs in a read-your-writes scope of its own. */
export function readYourWritesPerRequest(app: AppServer): void {
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function scoped(this: unknown, request, reply) {
      return readYourWrites(
        () => handler.call(this as never, request, reply),
        !READING_METHODS.has(request.method),
      );
    };
  });
}
