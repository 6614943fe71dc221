import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { SoftphonePage } from '../support/softphone-page.js';
import { ANCHOR_ON_LOOPBACK, startTestGateway } from '../support/test-gateway.js';

// The demo page's main states at desktop and phone width, checked by what is
// visible (and what must not be), with a screenshot of each kept for people
// under test-output/screenshots (git-ignored; CI keeps the folder as an
// artifact). Also: the live meters and the quality panel during an echo call.

const SCREENSHOTS = resolve(import.meta.dirname, '../../test-output/screenshots');
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'mobile', width: 390, height: 844 },
] as const;

const pages = useBrowserPages();
let gateway: Gateway | undefined;

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

async function shoot(page: Page, viewport: string, state: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${viewport}-${state}.png`), fullPage: true });
}

/** Nothing sticks out sideways, and each of `selectors` is visible and inside the viewport's width. */
async function expectLaidOut(page: Page, selectors: string[]): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, 'horizontal overflow').toBeLessThanOrEqual(innerWidth);
  for (const selector of selectors) {
    const box = await page.locator(selector).boundingBox();
    expect(box, `${selector} is shown`).not.toBeNull();
    expect(box!.x, selector).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width, selector).toBeLessThanOrEqual(innerWidth);
  }
}

const visible = (page: Page, selector: string) => page.locator(selector).isVisible();

/** The placeholder's text width in the input's font, and the room the input has for it. */
function placeholderFit(page: Page, selector: string): Promise<{ text: number; room: number }> {
  return page.evaluate((sel) => {
    const input = document.querySelector<HTMLInputElement>(sel)!;
    const style = getComputedStyle(input);
    const context = document.createElement('canvas').getContext('2d')!;
    context.font = style.font;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return { text: context.measureText(input.placeholder).width, room };
  }, selector);
}

/** Background colours of a disabled button, a disabled neutral button and an enabled danger button. */
function buttonColours(page: Page): Promise<{ hangup: string; mute: string; enabledDanger: string }> {
  return page.evaluate(() => {
    const probe = document.createElement('button');
    probe.className = 'danger';
    document.body.append(probe);
    const enabledDanger = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return {
      hangup: getComputedStyle(document.getElementById('hangup')!).backgroundColor,
      mute: getComputedStyle(document.getElementById('mute')!).backgroundColor,
      enabledDanger,
    };
  });
}

describe.each(VIEWPORTS)('the demo page at $name width ($width px)', (viewport) => {
  it('login, idle, in a call, after it, a second call, reconnecting and back', async () => {
    gateway = await startTestGateway(ANCHOR_ON_LOOPBACK);
    const port = gateway.httpPort;
    const phone = await pages.openPage(`http://127.0.0.1:${port}`);
    const { page } = phone;
    await page.setViewportSize({ width: viewport.width, height: viewport.height });

    // Login.
    expect(await visible(page, '#login-card')).toBe(true);
    expect(await visible(page, '#phone')).toBe(false);
    await expectLaidOut(page, ['#login-card', '#name', '#login']);
    await shoot(page, viewport.name, '1-login');

    // Idle: signed in, no call. The dial field's placeholder is not cut; Hang up looks disabled.
    await phone.login('alice');
    expect(await page.textContent('#connection-text')).toBe('Online');
    expect(await visible(page, '#end-reason-wrap')).toBe(false);
    expect(await visible(page, '#media-panel')).toBe(false);
    expect(await visible(page, '#reconnect-banner')).toBe(false);
    await expectLaidOut(page, ['#dial', '#call', '#mute', '#hold', '#hangup', '#mic-select', '#speaker-select']);
    const fit = await placeholderFit(page, '#dial');
    expect(fit.text, `placeholder ${fit.text.toFixed(0)} px in ${fit.room.toFixed(0)} px`).toBeLessThanOrEqual(fit.room);
    expect(await page.isDisabled('#hangup')).toBe(true);
    const colours = await buttonColours(page);
    expect(colours.hangup).not.toBe(colours.enabledDanger);
    expect(colours.hangup).toBe(colours.mute);
    await shoot(page, viewport.name, '2-idle');

    // In a call: the meters and the quality panel show; no "last call" label.
    await phone.dial('service:echo');
    await phone.waitForState('active');
    await expect.poll(() => page.textContent('#q-codec'), { timeout: 5000 }).toMatch(/^opus\/48000/);
    expect(await visible(page, '#media-panel')).toBe(true);
    expect(await page.isDisabled('#hangup')).toBe(false);
    expect((await buttonColours(page)).hangup).toBe(colours.enabledDanger);
    await expectLaidOut(page, ['#media-panel', '#mic-level', '#remote-level', '#q-codec', '#q-path', '#hangup']);
    await shoot(page, viewport.name, '3-in-call');

    // After it: "last call: hangup", the panel gone, Hang up disabled again.
    await phone.hangup();
    await phone.waitForState('ended');
    expect(await visible(page, '#end-reason-wrap')).toBe(true);
    expect(await page.textContent('#end-reason-wrap')).toBe('last call: hangup');
    expect(await visible(page, '#media-panel')).toBe(false);
    expect(await page.isDisabled('#hangup')).toBe(true);
    await shoot(page, viewport.name, '4-ended');

    // A second call: the previous call's label is gone while it lives.
    await phone.dial('service:echo');
    await phone.waitForState('active');
    expect(await visible(page, '#end-reason-wrap')).toBe(false);

    // The gateway goes away (it ends its calls with shutdown first): the page says it is reconnecting.
    await gateway.stop();
    gateway = undefined;
    await expect.poll(() => page.textContent('#connection-text'), { timeout: 5000 }).toBe('Reconnecting…');
    expect(await visible(page, '#reconnect-banner')).toBe(true);
    expect(await page.textContent('#reconnect-banner')).toContain('Reconnecting…');
    expect(await visible(page, '#phone')).toBe(true);
    expect(await page.isDisabled('#call')).toBe(true);
    expect(['shutdown', 'connection-lost']).toContain(await page.textContent('#end-reason'));
    await expectLaidOut(page, ['#reconnect-banner', '#connection']);
    await shoot(page, viewport.name, '5-reconnecting');

    // It comes back on the same port: the page signs in again by itself.
    gateway = await startTestGateway({ ...ANCHOR_ON_LOOPBACK, server: { port } });
    await expect.poll(() => page.textContent('#connection-text'), { timeout: 20_000 }).toBe('Online');
    expect(await visible(page, '#reconnect-banner')).toBe(false);
    expect(await page.isDisabled('#call')).toBe(false);
    expect(await page.textContent('#me')).toBe('alice');
    await shoot(page, viewport.name, '6-reconnected');
  }, 90_000);
});

describe('the call quality panel during an echo call', () => {
  it('both meters move, packets count up, and the codec, round trip and path (anchor) are shown', async () => {
    gateway = await startTestGateway(ANCHOR_ON_LOOPBACK);
    const phone: SoftphonePage = await pages.openPage(`http://127.0.0.1:${gateway.httpPort}`);
    const { page } = phone;
    await phone.login('alice');
    await phone.dial('service:echo');
    await phone.waitForState('active');

    // The fake microphone beeps: both levels rise and fall. Sample them for 3 s.
    const samples: { mic: number; remote: number; packets: number }[] = [];
    for (let i = 0; i < 15; i++) {
      samples.push(
        await page.evaluate(() => ({
          mic: Number(document.getElementById('mic-level')!.getAttribute('aria-valuenow')),
          remote: Number(document.getElementById('remote-level')!.getAttribute('aria-valuenow')),
          packets: Number(document.getElementById('media-panel')!.dataset.packetsReceived ?? 0),
        })),
      );
      await page.waitForTimeout(200);
    }
    const distinct = (values: number[]) => new Set(values.map((v) => v.toFixed(3))).size;
    expect(Math.max(...samples.map((s) => s.mic))).toBeGreaterThan(0.01);
    expect(Math.max(...samples.map((s) => s.remote))).toBeGreaterThan(0.01);
    expect(distinct(samples.map((s) => s.mic))).toBeGreaterThan(2);
    expect(distinct(samples.map((s) => s.remote))).toBeGreaterThan(2);
    expect(samples.at(-1)!.packets).toBeGreaterThan(samples[0]!.packets);

    expect(await page.textContent('#q-codec')).toMatch(/^opus\/48000/);
    expect(await page.textContent('#q-rtt')).toMatch(/^\d+(\.\d)? ms$/);
    expect(await page.textContent('#q-jitter')).toMatch(/ ms$/);
    expect(await page.textContent('#q-loss')).toMatch(/^\d+(\.\d)?% \(\d+ of \d+\)$/);
    expect(await page.textContent('#q-path')).toMatch(/^anchor \(through the gateway\) · host ↔ host \(udp\)$/);

    // Muted: the microphone meter drops to zero while the echo fades out.
    await page.click('#mute');
    await expect.poll(() => page.getAttribute('#mic-level', 'aria-valuenow'), { timeout: 3000 }).toBe('0.000');
    await phone.hangup();
    await phone.waitForState('ended');
  }, 60_000);
});
