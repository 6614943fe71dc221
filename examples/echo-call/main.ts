// The Switchboard SDK from npm, bundled: log in, call service:echo, show the
// call's state and quality, hang up. `?gateway=ws://host:8080/ws` points it at
// a gateway other than the one serving the page.

import { SDK_VERSION, SUPPORTED_PROTOCOL_VERSIONS, SwitchboardClient, SwitchboardError, type Call, type CallQuality } from '@switchboard/client';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const gateway = new URLSearchParams(location.search).get('gateway');
const client = new SwitchboardClient(gateway ? { url: gateway } : {});
let call: Call | undefined;

$('sdk').textContent = `${SDK_VERSION} (protocol ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`;

function show(quality: CallQuality): void {
  $('codec').textContent = quality.codec ?? '–';
  $('packets').textContent = String(quality.packetsReceived);
  $('rtt').textContent = quality.roundTripTimeMs === undefined ? '–' : `${quality.roundTripTimeMs.toFixed(1)} ms`;
  $<HTMLMeterElement>('level').value = quality.remoteLevel ?? 0;
}

async function start(): Promise<void> {
  $('error').textContent = '';
  $<HTMLButtonElement>('call').disabled = true;
  try {
    if (!client.loggedIn) await client.login({ name: $<HTMLInputElement>('name').value });
    call = await client.call('service:echo');
    const current = call;
    $<HTMLButtonElement>('hangup').disabled = false;
    current.on('remotestream', (stream) => ($<HTMLAudioElement>('audio').srcObject = stream));
    current.on('statechange', (state) => {
      $('state').textContent = state;
      $('path').textContent = current.mediaPath ?? '–';
    });
    const timer = setInterval(() => void current.quality().then(show), 500);
    current.on('ended', (reason) => {
      clearInterval(timer);
      $('state').textContent = `ended (${reason})`;
      $<HTMLButtonElement>('hangup').disabled = true;
      $<HTMLButtonElement>('call').disabled = false;
    });
  } catch (error) {
    $('error').textContent = error instanceof SwitchboardError ? `${error.code}: ${error.message}` : String(error);
    $<HTMLButtonElement>('call').disabled = false;
  }
}

$('call').addEventListener('click', () => void start());
$('hangup').addEventListener('click', () => call?.hangup());
