/** staticFiles: a game's built page from the server's port; nothing outside its directory, GET and HEAD only. */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server, staticFiles } from '../src/index.js';

let dir: string;
let server: Server;

/** A raw request (no URL normalisation on our side: the path goes out as written). */
function fetchRaw(method: string, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  const { port } = server.address();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'volley-static-'));
  dir = join(base, 'dist');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<p>hi</p>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(base, 'secret.txt'), 'do not serve');
  server = new Server({ port: 0, transports: ['websocket'] });
  server.http.fallback = staticFiles(dir);
  await server.listen();
});

afterAll(async () => {
  await server.close();
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

describe('staticFiles', () => {
  it('serves index.html at / and files by path, with their types', async () => {
    expect(await fetchRaw('GET', '/')).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', body: '<p>hi</p>' });
    expect(await fetchRaw('GET', '/assets/app.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(await fetchRaw('HEAD', '/assets/app.js')).toMatchObject({ status: 200, body: '' });
  });

  it('serves nothing outside its directory, no directory, no other method; the server keeps serving', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets', '/nope.js', '/%E0%A4%A']) {
      expect((await fetchRaw('GET', path)).status, path).toBe(404);
    }
    expect((await fetchRaw('POST', '/')).status).toBe(405);
    expect((await fetchRaw('GET', '/volley/info')).status).toBe(200); // Volley's own routes come first
    expect((await fetchRaw('GET', '/')).status).toBe(200);
  });
});
