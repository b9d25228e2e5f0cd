// The room type the scale-out test's processes run (`volley serve --rooms`, processes.test.ts): an arena of
// 10 whose state names the process that runs it and counts the players and their moves.
import { schema, t } from '@colyseus/schema';
import { Room } from '@volley/server';

const Arena = schema({ process: t.string(), players: t.number(), moves: t.number() }, 'ProcessArena');

export default function defineRooms(server) {
  class ArenaRoom extends Room {
    maxClients = 10;
    onCreate() {
      this.setState(new Arena());
      this.state.process = server.matchmaker.processId;
      this.state.players = 0;
      this.state.moves = 0;
      this.setPatchRate(10);
      this.onMessage('move', () => void this.state.moves++);
    }
    onJoin() {
      this.state.players++;
    }
    onLeave() {
      this.state.players--;
    }
  }
  server.define('arena', ArenaRoom);
}
