// The shooter's room types, for `volley serve --rooms examples/shooter/server/rooms.ts` (several processes
// sharing one Redis run the same arena: docs/scaling.md) and for `volley loadtest` against them.
import type { Server } from '@volley/server';
import { ArenaRoom } from './arena-room.js';

export default function defineRooms(server: Server): void {
  server.define('arena', ArenaRoom);
}
