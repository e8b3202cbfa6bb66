#!/usr/bin/env node
// The published entry point: compiled JavaScript from dist/, run by Node itself (no loader).
import '../dist/cli/bin.js';
