/**
 * Tables and verdict for call set-up alone (issue #18): the node-datachannel runs of
 * media-setup.ts and the Chromium runs of chromium-setup.ts, against the goal of first RTP at the
 * phone under 150 ms at p99 with 10 set-ups in flight, and no set-up over 500 ms.
 */
import type { ChromiumMilestone, ChromiumRun, ChromiumScenario } from './chromium-setup.js';
import { SETUP_MILESTONES, SLOW_SETUP_MS, type SetupRun } from './media-setup.js';
import { formatMs as ms, type Percentiles, type Table } from './run.js';

export const SETUP_GOAL = { concurrency: 10, firstRtpP99Ms: 150, maxMs: SLOW_SETUP_MS };

// A milestone a scenario does not have is NaN here, null after the Chromium child's IPC (JSON).
const triple = (p: Percentiles): string => (typeof p.p50 !== 'number' || Number.isNaN(p.p50) ? '–' : `${ms(p.p50)} / ${ms(p.p99)} / ${ms(p.max)}`);

const DIRECTION = {
  'browser-calls': 'browser → phone (the anchor answers)',
  'phone-calls': 'phone → browser (the anchor offers)',
} as const;

export function setupTable(runs: SetupRun[]): Table {
  return {
    title: 'Call set-up alone, node-datachannel browser and UDP phone (ms from the offer, p50 / p99 / max)',
    headers: ['Calls', 'In flight', ...SETUP_MILESTONES.map((m) => m.label), `Over ${SLOW_SETUP_MS} ms`, 'Failed / retried', 'Machine busy (load avg)'],
    rows: runs.map((r) => [
      `${DIRECTION[r.direction]}: ${r.calls}`,
      String(r.concurrency),
      ...SETUP_MILESTONES.map((m) => triple(r.ms[m.key])),
      String(r.slow),
      `${r.failed} / ${r.retried}`,
      `${r.machine ? r.machine.busyPct.toFixed(0) : '–'}% (${r.loadAverage})`,
    ]),
  };
}

const SCENARIO: Record<ChromiumScenario, string> = {
  'page-calls-echo': 'page → service:echo',
  'page-calls-baresip': 'page → baresip',
  'baresip-calls-page': 'baresip → page (from the INVITE)',
  'sipjs-calls-page': 'SIP.js → page, relayed (from the INVITE)',
  'sipjs-calls-page-silent-stun': 'SIP.js → page, relayed, a STUN server that never answers',
};

const CHROMIUM_COLUMNS: { key: ChromiumMilestone; label: string }[] = [
  { key: 'answeredMs', label: 'Answer (page applied it / page sent it)' },
  { key: 'candidatesEndMs', label: "Page's end-of-candidates" },
  { key: 'iceConnectedMs', label: 'ICE connected' },
  { key: 'connectedMs', label: 'DTLS connected' },
  { key: 'firstRtpAtPhoneMs', label: 'First RTP from the anchor to the phone' },
  { key: 'firstAudioMs', label: 'First audio decoded in the page' },
];

export function chromiumTable(runs: ChromiumRun[]): Table {
  return {
    title: 'Call set-up with Chromium on the demo page, one call at a time (ms from the offer, p50 / p99 / max)',
    headers: ['Scenario: calls', ...CHROMIUM_COLUMNS.map((c) => c.label), 'Failed'],
    rows: runs.map((r) => [`${SCENARIO[r.scenario]}: ${r.calls}`, ...CHROMIUM_COLUMNS.map((c) => triple(r.ms[c.key])), String(r.failed)]),
  };
}

export function setupNotes(runs: SetupRun[], chromium: ChromiumRun[]): string[] {
  const notes: string[] = [];
  const goal = runs.find((r) => r.direction === 'browser-calls' && r.concurrency === SETUP_GOAL.concurrency);
  if (goal) {
    const p = goal.ms.firstRtpAtPhoneMs;
    const met = p.p99 < SETUP_GOAL.firstRtpP99Ms && p.max < SETUP_GOAL.maxMs;
    notes.push(`Set-up goal (issue #18): first RTP at the phone p99 under ${SETUP_GOAL.firstRtpP99Ms} ms and max under ${SETUP_GOAL.maxMs} ms with ` +
      `${SETUP_GOAL.concurrency} set-ups in flight: p99 ${ms(p.p99)} ms, max ${ms(p.max)} ms: **${met ? 'met' : 'missed'}** ` +
      `(machine ${goal.machine ? `${goal.machine.busyPct.toFixed(0)}% busy` : 'load unknown'}, load average ${goal.loadAverage}).`);
  }
  notes.push(
    'Call set-up alone: each call is hung up as soon as media flowed both ways, so only set-ups are in flight. "browser → phone": ' +
      'the node-datachannel browser of the ramp sends `call` with its complete offer to a `tel:` UDP phone; "phone → browser": the ' +
      'phone calls a logged-in web user whose node-datachannel answer keeps its own DTLS role (`active`), as browsers answer. Times ' +
      'are from the offer (`call` frame, or the phone\'s offer to the gateway); "First RTP at the phone" is the browser\'s first ' +
      'packet, sent the moment DTLS is up, coming out of the anchor. Each run has its own gateway child.',
    'The 1 s tail this replaced: the anchor answered `setup:active` and started ICE and DTLS on the offer, so its ClientHello reached a ' +
      'browser that had no answer yet; node-datachannel keeps such a datagram and replays it when its DTLS transport starts, and loses ' +
      'it in that replay about one time in ten (more in the gateway process), until OpenSSL re-sends it after 1 s. src/media/README.md has the trace.',
    '"Retried": a set-up tried again after node-datachannel, on the browser side, failed it: "Got a remote candidate without ICE ' +
      'transport" when it applies an answer, or a DTLS handshake that checks the peer\'s certificate before its own remote ' +
      'description is stored ("certificate verify failed", a race in libdatachannel 0.24 that Chromium does not have; sending the ' +
      'candidates after the answer avoids it, 0 of 400 retried, at ~50 ms more per set-up: the cluster benchmark does that). Retried ' +
      'set-ups count with the time of their successful attempt.',
  );
  if (chromium.length > 0) {
    notes.push(
      'Chromium: headless, the demo page with its fake microphone, one call at a time, the page answering incoming calls at once. ' +
        '"First audio decoded" is the first getStats() (polled every 5 ms) whose inbound audio has samples that were not concealment; ' +
        '"First RTP from the anchor to the phone" reads the gateway\'s own counters every millisecond. The relayed rows never touch ' +
        'the anchor: they show what folding the page\'s trickled candidates into the answer for SIP.js (complete SDP only) costs: ' +
        'the answer waits for the page\'s end-of-candidates, or until the page was quiet for 250 ms.',
    );
  }
  return notes;
}
