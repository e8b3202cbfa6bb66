import type { AppDefinition } from '../app.ts';
import type { Settings } from '../config.ts';
import type { DatabaseHandle } from '../database/open.ts';
import { resolveApp } from './apps.ts';
import {
  APP_OPTION,
  type Command,
  JSON_OPTION,
  type OptionSpec,
  type OptionValues,
  type ParsedArgs,
} from './command.ts';
import type { Output } from './output.ts';

/** Every command on one app takes --app and --json besides its own options. */
const APP_OPTIONS = { ...APP_OPTION, ...JSON_OPTION };
export type AppOptions<O extends OptionSpec> = typeof APP_OPTIONS & O;

export interface AppContext<O extends OptionSpec, I> {
  app: AppDefinition;
  /** Split in two so that `values.app` is a string here, where `O` is still generic. */
  values: OptionValues<typeof APP_OPTIONS> & OptionValues<O>;
  /** What the definition's `parse` made of the command line (undefined without one). */
  input: I;
}

export interface OpenDatabase {
  settings: Settings;
  handle: DatabaseHandle;
  /** The database as progress lines name it (password redacted). */
  where: string;
}

export type DatabaseContext<O extends OptionSpec, I> = AppContext<O, I> & OpenDatabase;

interface Definition<O extends OptionSpec, I, C> extends Omit<Command<O>, 'run'> {
  /** Reads the command line before the app loads, so that a usage error never waits on the app or its database. */
  parse?(args: ParsedArgs<AppOptions<O>>): I;
  run(context: C, out: Output): Promise<number>;
}
/** `input` is undefined only without `parse`: any other input needs the parse that makes it. */
type ParseFor<O extends OptionSpec, I> = undefined extends I
  ? unknown
  : { parse(args: ParsedArgs<AppOptions<O>>): I };

/** A command on one app: the one named by --app, or the app folder it runs in. */
export function appCommand<O extends OptionSpec, I = undefined>(
  definition: Definition<O, I, AppContext<O, I>> & ParseFor<O, I>,
): Command<AppOptions<O>> {
  return onApp(definition);
}

/** A command on one app's database, opened for the command and always closed. */
export function databaseCommand<O extends OptionSpec, I = undefined>(
  definition: Definition<O, I, DatabaseContext<O, I>> & ParseFor<O, I>,
): Command<AppOptions<O>> {
  const { run } = definition;
  const onItsApp: Definition<O, I, AppContext<O, I>> = {
    ...definition,
    run: (context, out) => withAppDatabase(context.app, (database) => run({ ...context, ...database }, out)),
  };
  return onApp(onItsApp);
}

/** What both share; `input` is undefined here when there is no `parse` (ParseFor). */
function onApp<O extends OptionSpec, I>(
  definition: Definition<O, I | undefined, AppContext<O, I | undefined>>,
): Command<AppOptions<O>> {
  const { parse, run, options, ...about } = definition;
  return {
    ...about,
    options: { ...APP_OPTIONS, ...options },
    async run(args, out) {
      const input = parse?.(args);
      const values: AppContext<O, I>['values'] = args.values;
      return run({ app: await resolveApp(values.app), values, input }, out);
    },
  };
}

/** Opens the app's database (one connection is enough for a command) and always closes it. */
export async function withAppDatabase<T>(
  app: AppDefinition,
  work: (database: OpenDatabase) => Promise<T>,
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
    return await work({ settings, handle, where: describeDatabase(settings) });
  } finally {
    await handle.close();
  }
}
