import type { AppDefinition } from '../app.ts';
import type { Settings } from '../config.ts';
import type { DatabaseHandle } from '../database/open.ts';

export interface DatabaseCommandContext {
  app: AppDefinition<any>;
  settings: Settings;
  handle: DatabaseHandle<any>;
  where: string;
}

/** Opens the app's database for one command (one connection is enough) and always closes it. */
export async function withAppDatabase<T>(
  app: AppDefinition<any>,
  work: (context: DatabaseCommandContext) => Promise<T>,
): Promise<T> {
  const [{ appSettings }, { describeDatabase, openDatabase }] = await Promise.all([
    import('../runtime.ts'),
    import('../database/open.ts'),
  ]);
  const { settings } = appSettings(app);
  const handle = await openDatabase(
    { ...settings, pool: { ...settings.pool, max: 2 } },
    { schema: app.schema, extensions: app.extensions, applicationName: `groundwork-cli:${app.name}` },
  );
  try {
    return await work({ app, settings, handle, where: describeDatabase(settings) });
  } finally {
    await handle.close();
  }
}
