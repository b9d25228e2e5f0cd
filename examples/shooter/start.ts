// `npm start`: builds the shooter's page with Vite (showing its progress), starts the server with bots on
// 127.0.0.1:8080 (PORT to change it), and prints the URL to open. Ctrl-C stops it.
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { startShooter } from './server/main.js';

const root = new URL('./client/', import.meta.url);
const out = new URL('./dist/', import.meta.url);
const port = Number(process.env['PORT'] ?? 8080);

const started = performance.now();
process.stdout.write('building the shooter page… ');
let modules = 0;
await build({
  root: fileURLToPath(root),
  configFile: false,
  logLevel: 'warn',
  build: { outDir: fileURLToPath(out), emptyOutDir: true, reportCompressedSize: false, chunkSizeWarningLimit: 2048 },
  plugins: [
    {
      name: 'progress',
      transform() {
        if (++modules % 100 === 0) process.stdout.write(`${modules} modules… `);
        return null;
      },
    },
  ],
});
console.log(`done (${modules} modules, ${((performance.now() - started) / 1000).toFixed(1)} s)`);

const server = await startShooter(port, out).catch((e: NodeJS.ErrnoException) => {
  if (e.code === 'EADDRINUSE') console.error(`port ${port} is in use on 127.0.0.1: stop what uses it, or run PORT=8090 npm start`);
  else console.error(`the shooter's server did not start: ${e.message}`);
  process.exit(1);
});
const url = server.address().url;
console.log(`\nthe shooter is running with 2 bots: open ${url}`);
console.log(`  the A/B/C demo:    ${url}/?demo=abc (A, B and C fire; B's packet is lost and resent, live)`);
console.log(`  force a transport: ${url}/?transport=websocket (webrtc, websocket, polling)`);
console.log(`  a technique off:   ${url}/?prediction=0&interpolation=0&lagcomp=0`);
console.log('Ctrl-C to stop.');
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
