/**
 * Builds a page (an index.html and the TypeScript it loads) for the browser with Vite's build() API, with
 * @volley/* resolved to their sources: what runs in Chromium is the client as it is in the tree, not a
 * stale dist/. The bundle must be browser-only: any import of a Node-only module (node:*, a Node builtin,
 * ws, @geckos.io/server, node-datachannel, the client's Node entry) fails the build at once, naming the
 * importer; the finished chunks are checked again (module ids and code) so nothing slips through.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'vite';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const src = (pkg: string, file = 'index.ts') => join(repo, 'packages', pkg, 'src', file);

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]!]));
const FORBIDDEN_PACKAGES = ['ws', '@geckos.io/server', 'node-datachannel'];
/** Resolved files that must never reach a browser bundle (the client's Node-only modules, the server). */
const FORBIDDEN_FILES = [
  src('client', 'node.ts'),
  src('client', 'node-webrtc.ts'),
  src('client', 'transports/udp.ts'),
  join(repo, 'packages', 'server') + '/',
  '__vite-browser-external',
  ...FORBIDDEN_PACKAGES.map((p) => `/node_modules/${p}/`),
];

/** Why `specifier` is Node-only, or undefined if it is fine in a browser. */
export function nodeOnly(specifier: string): string | undefined {
  if (specifier.startsWith('node:')) return 'a node: builtin';
  if (BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]!)) return 'a Node builtin';
  const pkg = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
  if (FORBIDDEN_PACKAGES.includes(pkg)) return 'a Node-only package';
  const file = FORBIDDEN_FILES.find((f) => specifier.includes(f));
  if (file) return `a Node-only module (${file})`;
  return undefined;
}

/** A Vite plugin that fails the build on the first Node-only import, naming the importer. */
function browserOnly(): Plugin {
  return {
    name: 'volley-browser-only',
    enforce: 'pre',
    resolveId(source, importer) {
      const why = nodeOnly(source);
      if (why) this.error(`Node-only import in the browser bundle: '${source}' (${why}) imported by ${importer ?? '(entry)'}`);
      return null;
    },
    load(id) {
      const why = nodeOnly(id);
      if (why) this.error(`Node-only module in the browser bundle: ${id} (${why})`);
      return null;
    },
  };
}

export interface BuiltPage {
  /** Directory holding index.html and assets/. */
  dir: string;
  /** Every module that went into the bundle (absolute paths). */
  modules: string[];
  /** The JavaScript emitted, all chunks joined. */
  code: string;
  buildMs: number;
  /** Removes dir. */
  remove(): void;
}

/** Builds `root`/index.html (and what it imports) into a fresh temporary directory. */
export async function buildPage(root: string, options: { quiet?: boolean } = {}): Promise<BuiltPage> {
  const dir = mkdtempSync(join(tmpdir(), 'volley-page-'));
  const started = performance.now();
  try {
    const result = await build({
      root,
      configFile: false,
      envDir: false,
      logLevel: options.quiet ? 'silent' : 'warn',
      plugins: [browserOnly()],
      resolve: {
        alias: [
          { find: /^@volley\/client$/, replacement: src('client') },
          { find: /^@volley\/protocol$/, replacement: src('protocol') },
          { find: /^@volley\/devtools$/, replacement: src('devtools') },
        ],
      },
      build: {
        outDir: dir,
        emptyOutDir: true,
        minify: false,
        sourcemap: false,
        reportCompressedSize: false,
        modulePreload: { polyfill: false },
      },
    });
    const outputs = (Array.isArray(result) ? result : [result]) as {
      output: ({ type: 'chunk'; code: string; moduleIds: string[]; imports: string[] } | { type: 'asset' })[];
    }[];
    const modules: string[] = [];
    let code = '';
    for (const out of outputs) {
      for (const item of out.output) {
        if (item.type !== 'chunk') continue;
        modules.push(...item.moduleIds);
        code += item.code;
        // A browser bundle imports nothing from outside itself except its own chunks.
        for (const imp of item.imports) if (!imp.endsWith('.js')) throw new Error(`browser bundle imports '${imp}' from outside itself`);
      }
    }
    const bad = modules.map((m) => [m, nodeOnly(m)] as const).filter(([, why]) => why);
    if (bad.length) throw new Error(`Node-only module(s) in the browser bundle:\n${bad.map(([m, why]) => `  ${m}: ${why}`).join('\n')}`);
    const leftover =
      /\bfrom\s*["'](node:[^"']+|dgram|ws|node-datachannel[^"']*|@geckos\.io\/server)["']|\brequire\(\s*["'][^"']+["']\s*\)/.exec(code);
    if (leftover) throw new Error(`browser bundle still imports a module at run time: ${leftover[0]}`);
    return { dir, modules, code, buildMs: performance.now() - started, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
