#!/usr/bin/env node
// The `volley` command. The TypeScript sources are compiled to ../dist by `npm install` (prepare) or `npm run build`.
import { crash, main } from '../dist/main.js';

/** Once the command is done, what a library still holds (a transport attempt winding down) gets this long, not forever. */
const EXIT_GRACE_MS = 1000;

// An error thrown where main cannot catch it (a timer, an event listener) is still one line, not a stack trace.
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
process.exitCode = await main(process.argv.slice(2));
setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
