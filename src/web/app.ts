/**
 * The demo softphone: login, dial, answer, presence, call log, chat, call
 * quality, audio devices and reconnecting. A thin
 * layer over the SDK (everything protocol-related lives in src/client); this
 * file joins the page's parts and owns the one current call.
 *
 * Query parameters: `?name=alice` pre-fills the name,
 * `?iceTransportPolicy=relay` forces TURN.
 */

import { SwitchboardClient, SwitchboardError, type Call, type LoginOptions } from '../client/index.js';
import { AudioDevices } from './audio-devices.js';
import { listenToCallControls } from './call-controls.js';
import { addLogEntry, listenToLog } from './call-log.js';
import { callDuration, displayName, formatDuration, hasLiveMedia, normalizeAddress } from './call-display.js';
import { ChatPanel } from './chat-panel.js';
import { hideError, showError } from './error-toast.js';
import { listenToUsers, renderUsers } from './online-users.js';
import { ui } from './page-elements.js';
import { QualityPanel } from './quality-panel.js';
import { Reconnector } from './reconnect.js';
import { clearRegistrations, showRegistration } from './registration-status.js';
import { Tones } from './tones.js';

declare global {
  interface Window {
    switchboard: { client: SwitchboardClient; readonly call: Call | undefined };
  }
}

// ------------------------------------------------------------------ state

const params = new URLSearchParams(location.search);
const rtcConfig: Partial<RTCConfiguration> = {};
const policy = params.get('iceTransportPolicy');
if (policy === 'relay' || policy === 'all') rtcConfig.iceTransportPolicy = policy;

const client = new SwitchboardClient({ rtcConfig });
const tones = new Tones();
const chat = new ChatPanel(client);
const quality = new QualityPanel();
let current: Call | undefined;
const devices = new AudioDevices(() => current);
let signingOut = false;
/** What the user signed in with, to sign in again after the connection dropped. */
let credentials: LoginOptions | undefined;
const reconnector = new Reconnector(client, {
  waiting(attempt, delayMs, lastError) {
    const why = lastError instanceof SwitchboardError ? ` (${lastError.code})` : '';
    ui.reconnectDetail.textContent = `Attempt ${attempt} in ${Math.round(delayMs / 1000)} s${why}.`;
  },
  reconnected(welcome) {
    hideError();
    showLoggedIn(welcome.user, welcome.address);
    client.subscribePresence().catch(showError);
  },
});

window.switchboard = {
  client,
  get call() {
    return current;
  },
};

const BASE_TITLE = document.title;

function setConnection(status: 'offline' | 'connecting' | 'online' | 'reconnecting'): void {
  ui.connection.dataset.status = status;
  ui.connectionText.textContent = { offline: 'Offline', connecting: 'Connecting…', online: 'Online', reconnecting: 'Reconnecting…' }[status];
  ui.reconnectBanner.hidden = status !== 'reconnecting';
}

// ------------------------------------------------------------------ rendering

function render(): void {
  const call = current;
  const state = call?.state ?? 'idle';
  ui.state.textContent = state;
  ui.state.dataset.state = state;

  const live = call !== undefined && call.live;
  ui.peer.textContent = call ? displayName(call) : 'No call';
  ui.peer.classList.toggle('none', !call);
  ui.incoming.hidden = !(live && call.state === 'incoming');
  if (live && call.state === 'incoming') ui.incomingFrom.textContent = displayName(call);

  const reconnecting = reconnector.active || client.resuming;
  ui.call.disabled = live || reconnecting;
  ui.dial.disabled = live || reconnecting;
  ui.hangup.disabled = !live;
  ui.mute.disabled = !live || call.state === 'incoming';
  ui.hold.disabled = !live || !hasLiveMedia(call);
  ui.mute.textContent = live && call.muted ? 'Unmute' : 'Mute';
  ui.mute.setAttribute('aria-pressed', String(live && call.muted));
  ui.hold.textContent = live && call.onHold ? 'Resume' : 'Hold';
  ui.hold.setAttribute('aria-pressed', String(live && call.onHold));
  ui.keypad.classList.toggle('in-call', live && hasLiveMedia(call));

  // "last call: …" belongs to an ended call only, never beside a new one.
  const ended = call !== undefined && !call.live && call.endReason !== undefined;
  ui.endReasonWrap.hidden = !ended;
  if (ended) {
    ui.endReason.textContent = call.endReason ?? '';
    ui.endReason.title = call.endDetail ?? '';
  }
  renderTimer();
  quality.follow(call);

  tones.set(!live ? 'off' : call.state === 'incoming' ? 'ring' : call.state === 'ringing' ? 'ringback' : 'off');
  document.title = live && call.state === 'incoming' ? `Incoming call · ${BASE_TITLE}` : BASE_TITLE;
}

function renderTimer(): void {
  const call = current;
  ui.timer.textContent = call && (call.state === 'active' || call.state === 'ended') && (call.connectedAt ?? call.answeredAt)
    ? formatDuration(callDuration(call))
    : '';
}

function showLoggedIn(user: string, address: string): void {
  ui.me.textContent = user;
  ui.myAddress.textContent = address;
  ui.loginCard.hidden = true;
  ui.phone.hidden = false;
  setConnection('online');
  renderUsers(client);
  render();
  ui.dial.focus();
}

function showLoggedOut(): void {
  reconnector.stop();
  ui.phone.hidden = true;
  ui.loginCard.hidden = false;
  ui.login.disabled = false;
  ui.login.textContent = 'Sign in';
  setConnection('offline');
  clearRegistrations();
  chat.reset();
  renderUsers(client);
  render();
}

// ------------------------------------------------------------------ calls

function adopt(call: Call): void {
  if (current?.live && current !== call) {
    // One call at a time in this demo: a second incoming call gets "busy".
    if (call.direction === 'incoming') {
      call.on('ended', () => addLogEntry(call));
      call.reject('busy');
    }
    return;
  }
  current = call;
  ui.dtmfReceived.textContent = '';
  ui.remoteAudio.srcObject = call.remoteStream;
  call.on('statechange', render);
  call.on('remotestream', (stream) => {
    ui.remoteAudio.srcObject = stream;
    ui.remoteAudio.play().catch(() => undefined);
  });
  call.on('dtmf', (digits) => {
    ui.dtmfReceived.textContent = `received DTMF ${digits}`;
  });
  // Transferred by the other party (a SIP REFER): call where we were sent, then leave this call.
  call.on('transfer', (to, transferId) => {
    current = undefined; // the follow-up call becomes the page's call
    void dial(to, transferId).finally(() => call.hangup());
  });
  void devices.refresh(); // device labels appear once the microphone is allowed
  call.on('ended', () => {
    addLogEntry(call);
    if (current === call || current === undefined) ui.remoteAudio.srcObject = null;
    render();
  });
  render();
}

client.on('call', adopt);
client.on('incoming', () => render());
client.on('presence', () => renderUsers(client));
client.on('registration', showRegistration);
client.on('error', (error) => {
  // The session could not be taken back (its calls have ended): sign in again as after a restart.
  if (error.code === 'resume-failed' && credentials && !signingOut) {
    clearRegistrations();
    reconnector.start(credentials);
    setConnection('reconnecting');
    render();
    return;
  }
  showError(error);
});
// The SDK resumes the session by itself (calls go on): the page only says so.
client.on('reconnecting', ({ attempt, delayMs, resuming }) => {
  if (resuming) ui.reconnectDetail.textContent = `Resuming the session: attempt ${attempt} in ${Math.round(delayMs / 100) / 10} s.`;
});
client.on('reconnected', (reply) => {
  if (reply.type !== 'resumed') return;
  setConnection('online');
  render();
});
client.on('disconnected', ({ code, reason, resuming }) => {
  if (reconnector.active) return; // a failed attempt's own close
  if (resuming) {
    setConnection('reconnecting');
    render();
    return;
  }
  // Replaced by a login elsewhere (4001) or signed out: no point in signing in again.
  if (signingOut || !credentials || code === 4001) {
    showLoggedOut();
    if (!signingOut) showError(new SwitchboardError('connection-closed', `disconnected (${code}${reason ? ` ${reason}` : ''})`));
    signingOut = false;
    return;
  }
  clearRegistrations();
  reconnector.start(credentials);
  setConnection('reconnecting');
  renderUsers(client);
  render();
});

setInterval(() => {
  if (current?.state === 'active') renderTimer();
}, 1000);

// ------------------------------------------------------------------ controls

ui.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void login();
});

async function login(): Promise<void> {
  tones.unlock();
  hideError();
  const name = ui.name.value.trim();
  const token = ui.token.value.trim();
  if (!name && !token) {
    showError('Enter a name (or a token) to sign in.');
    ui.name.focus();
    return;
  }
  ui.login.disabled = true;
  ui.login.textContent = 'Signing in…';
  setConnection('connecting');
  try {
    const options: LoginOptions = token ? { token } : { name };
    const welcome = await client.login(options);
    credentials = options;
    showLoggedIn(welcome.user, welcome.address);
    await client.subscribePresence();
  } catch (error) {
    showError(error);
    if (!client.loggedIn) showLoggedOut();
  } finally {
    ui.login.disabled = false;
    ui.login.textContent = 'Sign in';
  }
}

ui.logout.addEventListener('click', () => {
  signingOut = true;
  credentials = undefined;
  client.close(); // emits `disconnected` synchronously, when connected
  signingOut = false;
  showLoggedOut();
  hideError();
});

ui.dialForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void dial(ui.dial.value);
});

async function dial(input: string, transferId?: string): Promise<void> {
  if (!input.trim()) {
    ui.dial.focus();
    return;
  }
  if (current?.live) return;
  tones.unlock();
  hideError();
  const to = normalizeAddress(input);
  ui.dial.value = to;
  ui.call.disabled = true;
  try {
    await client.call(to, { audio: devices.microphone(), ...(transferId ? { transferId } : {}) });
  } catch (error) {
    showError(error);
  } finally {
    render();
  }
}

/** Puts `address` in the dial field, unless a call is going on. */
function pickAddress(address: string): void {
  if (ui.dial.disabled) return;
  ui.dial.value = address;
  ui.dial.focus();
}

listenToCallControls({ current: () => current, render, tones, microphone: () => devices.microphone() });
listenToUsers({ pick: pickAddress, call: (address) => void dial(address) });
listenToLog(pickAddress);

// ------------------------------------------------------------------ start

const presetName = params.get('name');
if (presetName) ui.name.value = presetName;
showLoggedOut();
(presetName ? ui.login : ui.name).focus();
