import { enableCompileCache } from 'node:module';
import { registerFastResolve } from './fast-resolve.ts';

// Both before anything else loads: compiled code is cached between runs (Node >= 22.1), and installed
// ESM packages resolve without Node 22/24's per-module package.json cost.
enableCompileCache();
registerFastResolve();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
