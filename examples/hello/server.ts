// A Volley chat room, and the page, on one port. Build the page, then start it:
//   npx vite build examples/hello && npx tsx examples/hello/server.ts
import { pathToFileURL } from 'node:url';
import { Room, Server, staticFiles, type RoomClient } from '@volley/server';
import { Chat, Line, Person } from './state.js';

class ChatRoom extends Room<InstanceType<typeof Chat>> {
  override onCreate() {
    this.setState(new Chat());
    this.onMessage('say', (client, text) => {
      const me = this.state.people.get(client.sessionId)!;
      me.said++;
      this.state.lines.push(new Line().assign({ who: me.name, text: String(text).slice(0, 200) }));
      if (this.state.lines.length > 50) this.state.lines.shift();
    });
  }
  override onJoin(client: RoomClient) {
    this.state.people.set(client.sessionId, new Person().assign({ name: `guest-${client.sessionId.slice(0, 4)}`, said: 0 }));
  }
  override onDrop(client: RoomClient) {
    void this.allowReconnection(client, 30); // a reload (or a dead network) keeps your seat for 30 s
  }
  override onLeave(client: RoomClient) {
    this.state.people.delete(client.sessionId);
  }
}

export async function start(port: number, page = new URL('./dist/', import.meta.url)): Promise<Server> {
  const server = new Server({ port });
  server.define('chat', ChatRoom);
  server.http.fallback = staticFiles(page); // the built page, on the same port
  return server.listen();
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const server = await start(8080);
  console.log(`open ${server.address().url} in two tabs and chat`);
}
