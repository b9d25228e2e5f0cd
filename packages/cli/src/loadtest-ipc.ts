/** What `volley loadtest` (loadtest.ts, worker-pool.ts) and its worker processes (loadtest-worker.ts) say to each other over IPC. */

export interface WorkerConfig {
  /** The server processes' URLs; bot i connects to urls[i % urls.length] first. */
  urls: string[];
  /** This worker's bots: numbers first .. first + count - 1 of the whole test. */
  first: number;
  count: number;
  room: string;
  joinOptions: Record<string, unknown>;
  transport: 'udp' | 'websocket' | 'polling';
  script: string;
  /** Joins under way at once in this worker. */
  batch: number;
  joinTimeoutMs: number;
  /** The worker exits by itself after this long, whatever happens (ms). */
  lifetimeMs: number;
}

/** What the bots whose room runs in one server process saw, summed, since they joined. */
export interface BotFigures {
  /** Bots still in their room. */
  bots: number;
  /** State changes every bot that ever joined there counted (the lost ones' until they left). */
  stateChanges: number;
}

/** Parent → worker. A `mark` is answered by a `marked` with the same id. */
export type ToWorker = { t: 'start'; config: WorkerConfig } | { t: 'mark'; id: number } | { t: 'stop' };

/** Worker → parent. */
export type FromWorker =
  | { t: 'joined'; index: number; ms: number; process: string }
  | { t: 'failed'; index: number; via: string; reason: string }
  | { t: 'lost'; index: number; process: string; reason: string }
  | { t: 'ready' }
  | { t: 'marked'; id: number; perProcess: Record<string, BotFigures>; cpuMicros: number }
  | { t: 'stopped' }
  /** Something outside any one bot failed (the script module, an exception no bot caught): the run stops. */
  | { t: 'error'; message: string };
