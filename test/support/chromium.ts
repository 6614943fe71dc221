import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { loopbackOnlyBindLibrary } from './loopback-only-bind.js';

/** Debian's Chromium; tests never download a browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  // ICE stays on loopback: allow it as a candidate, and show real addresses instead of mDNS names
  // so the gateway's candidate filter can keep only loopback ones.
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

export interface TestBrowser {
  browser: Browser;
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export interface ChromiumOptions {
  /**
   * Refuse every socket bound to a non-loopback address (loopback-only-bind.c), so WebRTC gathers
   * and sends on 127.0.0.1 and ::1 only, even towards peer-reflexive addresses. On by default:
   * dropping non-loopback candidates is not enough, Chromium still pairs its other interfaces'
   * sockets with a peer's loopback candidates and learns them as peer-reflexive.
   */
  loopbackSocketsOnly?: boolean;
}

/** Starts headless Chromium (a fresh temporary profile) with a fake microphone playing a beep. */
export async function launchChromium(options: ChromiumOptions = {}): Promise<TestBrowser> {
  const env = options.loopbackSocketsOnly !== false ? { ...process.env, LD_PRELOAD: loopbackOnlyBindLibrary() } : undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS, env });
  return {
    browser,
    newContext: () => browser.newContext({ permissions: ['microphone'] }),
    close: () => browser.close(),
  };
}
