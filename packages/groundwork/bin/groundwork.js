#!/usr/bin/env node
// Apps and the library are TypeScript run as-is: tsx compiles them on import, so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/cli.ts');
process.exitCode = await main(process.argv.slice(2));
