import { readFileSync } from 'node:fs';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';

/**
 * PGlite's own parameters (`startParams` replaces them) with a smaller buffer pool. Its default 128 MB of
 * shared_buffers is touched as the instance starts, so every app's instance paid for all of it in memory and
 * start time; 16 MB holds a development database (figures in docs/performance.md, embedded start).
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

// The package does not export its package.json: read it beside the entry point (dist/index.js).
export const PGLITE_VERSION = (
  JSON.parse(
    readFileSync(new URL('../package.json', import.meta.resolve('@electric-sql/pglite')), 'utf8'),
  ) as { version: string }
).version;

export type PgliteRuntime = Required<Pick<PGliteOptions, 'pgliteWasmModule' | 'fsBundle' | 'startParams'>>;

/**
 * The file bundle as PGlite reads it: it only calls `arrayBuffer()`, and its file system keeps views into the
 * buffer it gets (files are created owning their bytes), so every call answers a fresh copy. A `Blob` would
 * do the same, but Node reads a Blob's bytes back in chunks and joins them, several times the CPU of one copy
 * for each instance.
 */
function bundleOf(bytes: Uint8Array): Blob {
  const bundle: Pick<Blob, 'arrayBuffer'> = {
    arrayBuffer: async () => new Uint8Array(bytes).buffer,
  };
  return bundle as Blob;
}

let runtime: Promise<PgliteRuntime> | undefined;

/**
 * Options every PGlite instance of the process shares: the compiled module, the file bundle and the start
 * parameters. PGlite caches its module only once a first compile has finished, so instances opened together
 * (every app at `npm start`, a test file's databases) would each read and compile the module themselves.
 */
export function pgliteRuntime(): Promise<PgliteRuntime> {
  runtime ??= (async () => {
    const dist = import.meta.resolve('@electric-sql/pglite');
    // Read in one go, not in chunks: each chunk of an asynchronous read waits for this thread, which is busy
    // loading modules while `serve` starts this early (the compile itself runs on other threads).
    const bundle = readFileSync(new URL('pglite.data', dist));
    return {
      pgliteWasmModule: await WebAssembly.compile(readFileSync(new URL('pglite.wasm', dist))),
      fsBundle: bundleOf(bundle),
      startParams: START_PARAMS,
    };
  })();
  runtime.catch(() => {
    runtime = undefined;
  });
  return runtime;
}
