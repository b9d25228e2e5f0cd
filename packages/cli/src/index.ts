/**
 * `volley` as a library: the scenarios and simulations behind the command, for scripts and tests
 * (the command itself is bin/volley.js → main.ts).
 */

export { formatAbc, runAbc } from './scenario-abc.js';
export type { AbcOptions, ScenarioEvent, Shooter, Side } from './scenario-abc.js';
export { formatSim, runSim } from './sim.js';
export type { SimOptions, SimReport } from './sim.js';
export { formatPingSummary, runPing } from './ping.js';
export type { PingOptions, PingReport } from './ping.js';
export { main } from './main.js';
export { runLoadtest } from './loadtest.js';
export { formatLoadtest } from './loadtest-report.js';
export type { LoadtestOptions, LoadtestReport, ProcessLoad, ProcessReport, Quantiles } from './loadtest.js';
export type { BotContext, BotScript } from './bot-script.js';
