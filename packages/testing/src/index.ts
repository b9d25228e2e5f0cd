/**
 * @volley/testing — test Volley rooms deterministically: rooms in-process, N simulated clients over seeded
 * lossy links, simulated time (docs/rooms.md, "Testing").
 */

export { RoomTestbed } from './room-testbed.js';
export type { RoomTestbedOptions, TestbedError } from './room-testbed.js';
export { TestClient } from './test-client.js';
export { SimSession } from './sim-session.js';
export { SimScheduler } from './sim-scheduler.js';
