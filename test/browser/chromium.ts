/**
 * Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core (never
 * `npx playwright install`), with the flags that let WebRTC connect on loopback (docs/testing.md). Built
 * pages are served from the Volley server's own HTTP port (same origin) with @volley/server's staticFiles.
 */

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure Chromium is there, installing it with apt-get when it is missing (root only; one install at a
 * time across test files, through flock; bounded to 10 minutes). Returns why the browser tests cannot run,
 * or undefined when they can. CI installs Chromium beforehand (.ci/run), so this is a local convenience.
 */
export function ensureChromium(): string | undefined {
  if (executable(CHROMIUM)) return undefined;
  if (process.platform !== 'linux' || process.getuid?.() !== 0 || !executable('/usr/bin/apt-get')) {
    return `${CHROMIUM} is missing and cannot be installed here (needs root and apt-get): run \`apt-get install -y chromium\``;
  }
  const r = spawnSync(
    'flock',
    ['/tmp/volley-chromium-install.lock', 'sh', '-c', `[ -x ${CHROMIUM} ] || { apt-get update && apt-get install -y chromium; }`],
    { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (executable(CHROMIUM)) return undefined;
  const tail = `${r.error?.message ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
  return `${CHROMIUM} is missing and \`apt-get install -y chromium\` did not provide it (exit ${r.status ?? r.signal}): ${tail}`;
}

/** Flags that work for WebRTC on loopback (docs/testing.md); --disable-features is merged in launchChromium(). */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-proxy-server',
  // Required: without it no data channel opens between 127.0.0.1 and 127.0.0.1.
  '--allow-loopback-in-peer-connection',
];
/** Our additions to Playwright's --disable-features list: host candidates stay plain IPs, not mDNS names. */
export const EXTRA_DISABLED_FEATURES = ['WebRtcHideLocalIpsWithMdns'];

let playwrightDisableFeatures: Promise<string | undefined> | undefined;

/**
 * The exact --disable-features argument Playwright passes by default. Chromium keeps only the last
 * --disable-features, so that one must be dropped (ignoreDefaultArgs wants the exact string) and a merged
 * list passed instead. Playwright does not export its list: learn it from one launch's command line.
 */
function defaultDisableFeatures(): Promise<string | undefined> {
  playwrightDisableFeatures ??= (async () => {
    const probe = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'], timeout: 30_000 });
    try {
      return probe.process().spawnargs.find((a) => a.startsWith('--disable-features='));
    } finally {
      await probe.close();
    }
  })();
  return playwrightDisableFeatures;
}

export interface LaunchedChromium {
  browser: Browser;
  /** The browser's actual command line, as Chromium reports it. */
  commandLine: string[];
}

export async function launchChromium(): Promise<LaunchedChromium> {
  const defaults = await defaultDisableFeatures();
  const features = [
    ...(defaults ? defaults.slice('--disable-features='.length).split(',').filter(Boolean) : []),
    ...EXTRA_DISABLED_FEATURES,
  ];
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    ignoreDefaultArgs: defaults ? [defaults] : [],
    args: [...CHROMIUM_FLAGS, `--disable-features=${[...new Set(features)].join(',')}`],
  });
  let commandLine: string[] = [];
  try {
    const cdp = await browser.newBrowserCDPSession();
    commandLine = (await cdp.send('Browser.getBrowserCommandLine')).arguments;
    await cdp.detach();
  } catch {
    // not available: the test checks what it can
  }
  return { browser, commandLine };
}

/** Collects a page's console output and uncaught errors, to show when a test fails. */
export function pageLog(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (m) => void lines.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => void lines.push(`[pageerror] ${e.message}`));
  page.on('requestfailed', (r) => void lines.push(`[requestfailed] ${r.method()} ${r.url()}: ${r.failure()?.errorText ?? ''}`));
  return lines;
}
