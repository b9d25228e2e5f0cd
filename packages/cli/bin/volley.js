#!/usr/bin/env node
// The `volley` command. The TypeScript sources are compiled to ../dist by `npm install` (prepare) or `npm run build`.
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
