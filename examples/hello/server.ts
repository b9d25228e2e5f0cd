// A Volley chat server that also serves the page. Build the page, then start it:
//   npx vite build examples/hello && npx tsx examples/hello/server.ts
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Server } from '@volley/server';

export async function start(port: number, page = new URL('./dist/', import.meta.url)): Promise<Server> {
  const server = new Server({ port });
  server.onMessage('chat', (_session, text) => server.broadcast('chat', text)); // to everyone, sender included
  server.http.fallback = async (_req, res, path) => {
    const file = new URL(`.${path === '/' ? '/index.html' : path}`, page);
    const body = file.href.startsWith(page.href) ? await readFile(file).catch(() => null) : null;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': path.endsWith('.js') ? 'text/javascript' : 'text/html' }).end(body);
  };
  return server.listen();
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const server = await start(8080);
  console.log(`open ${server.address().url} in two tabs and chat`);
}
