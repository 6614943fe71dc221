import { afterAll, afterEach, beforeAll } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { launchChromium, type ChromiumOptions, type TestBrowser } from './chromium.js';
import { SoftphonePage } from './softphone-page.js';

/**
 * One headless Chromium for a test file, a fresh browser context per page
 * (its own microphone permission and storage), all closed after each test.
 * Call at the top level of a test file.
 */
export function useBrowserPages(options: ChromiumOptions = {}): { browser(): TestBrowser; openPage(baseUrl: string, query?: string): Promise<SoftphonePage> } {
  let browser: TestBrowser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchChromium(options);
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    browser: () => {
      if (!browser) throw new Error('Chromium is not running (useBrowserPages() must be called at the top level)');
      return browser;
    },
    async openPage(baseUrl, query = '') {
      if (!browser) throw new Error('Chromium is not running (useBrowserPages() must be called at the top level)');
      const context = await browser.newContext();
      contexts.push(context);
      return SoftphonePage.open(context, baseUrl, query);
    },
  };
}
