/**
 * The demo softphone: login, dial, answer, presence, call log. A thin layer
 * over the SDK; everything protocol-related lives in src/client.
 *
 * Query parameters: `?name=alice` pre-fills the name,
 * `?iceTransportPolicy=relay` forces TURN.
 */

import { SwitchboardClient, SwitchboardError, type Call, type CallState } from '../client/index.js';

declare global {
  interface Window {
    switchboard: { client: SwitchboardClient; readonly call: Call | undefined };
  }
}

// ------------------------------------------------------------------ elements

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as T;
}

const ui = {
  connection: $('connection'),
  connectionText: $('connection-text'),
  loginCard: $('login-card'),
  loginForm: $<HTMLFormElement>('login-form'),
  name: $<HTMLInputElement>('name'),
  token: $<HTMLInputElement>('token'),
  login: $<HTMLButtonElement>('login'),
  phone: $('phone'),
  me: $('me'),
  myAddress: $('my-address'),
  logout: $<HTMLButtonElement>('logout'),
  dialForm: $<HTMLFormElement>('dial-form'),
  dial: $<HTMLInputElement>('dial'),
  call: $<HTMLButtonElement>('call'),
  incoming: $('incoming'),
  incomingFrom: $('incoming-from'),
  answer: $<HTMLButtonElement>('answer'),
  reject: $<HTMLButtonElement>('reject'),
  peer: $('peer'),
  timer: $('timer'),
  state: $('state'),
  endReasonWrap: $('end-reason-wrap'),
  endReason: $('end-reason'),
  dtmfReceived: $('dtmf-received'),
  mute: $<HTMLButtonElement>('mute'),
  hold: $<HTMLButtonElement>('hold'),
  hangup: $<HTMLButtonElement>('hangup'),
  keypad: $('keypad'),
  users: $<HTMLUListElement>('users'),
  usersCount: $('users-count'),
  usersEmpty: $('users-empty'),
  log: $<HTMLUListElement>('log'),
  logEmpty: $('log-empty'),
  toast: $('toast'),
  error: $('error'),
  toastClose: $<HTMLButtonElement>('toast-close'),
  remoteAudio: $<HTMLAudioElement>('remote-audio'),
};

// ------------------------------------------------------------------ tones (WebAudio, no files)

type ToneMode = 'off' | 'ring' | 'ringback';

const DTMF_FREQUENCIES: Record<string, [number, number]> = {
  '1': [697, 1209], '2': [697, 1336], '3': [697, 1477],
  '4': [770, 1209], '5': [770, 1336], '6': [770, 1477],
  '7': [852, 1209], '8': [852, 1336], '9': [852, 1477],
  '*': [941, 1209], '0': [941, 1336], '#': [941, 1477],
};

class Tones {
  private ctx: AudioContext | undefined;
  private mode: ToneMode = 'off';
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly playing = new Set<OscillatorNode>();

  /** Creates or resumes the AudioContext; call from a user gesture so it may play. */
  unlock(): void {
    try {
      this.ctx ??= new AudioContext();
      if (this.ctx.state === 'suspended') void this.ctx.resume();
    } catch {
      // no WebAudio: the phone works, silently
    }
  }

  set(mode: ToneMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const osc of this.playing) {
      try {
        osc.stop();
      } catch {
        // already stopped
      }
    }
    this.playing.clear();
    if (mode === 'off') return;
    this.unlock();
    // Incoming: a soft three-note chime twice every 3 s. Ringback: 440+480 Hz, 2 s on, 4 s off.
    const burst = mode === 'ring' ? () => this.chime() : () => this.tone([440, 480], 0, 2, 0.05, 'flat');
    burst();
    this.timer = setInterval(burst, mode === 'ring' ? 3000 : 6000);
  }

  dtmf(digit: string): void {
    const pair = DTMF_FREQUENCIES[digit];
    if (pair) this.tone(pair, 0, 0.12, 0.04, 'flat');
  }

  private chime(): void {
    const notes = [659.25, 830.61, 987.77];
    for (const [round, offset] of [0, 0.75].entries()) {
      notes.forEach((freq, i) => this.tone([freq], offset + i * 0.16, 0.5, round === 0 ? 0.12 : 0.1, 'pluck'));
    }
  }

  private tone(freqs: number[], delay: number, duration: number, volume: number, envelope: 'flat' | 'pluck'): void {
    const ctx = this.ctx;
    if (!ctx || ctx.state === 'closed') return;
    const start = ctx.currentTime + delay;
    const end = start + duration;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.linearRampToValueAtTime(volume, start + 0.015);
    if (envelope === 'pluck') {
      gain.gain.exponentialRampToValueAtTime(0.0001, end);
    } else {
      gain.gain.setValueAtTime(volume, end - 0.02);
      gain.gain.linearRampToValueAtTime(0.0001, end);
    }
    gain.connect(ctx.destination);
    for (const freq of freqs) {
      const osc = ctx.createOscillator();
      osc.type = 'sine';
      osc.frequency.value = freq;
      osc.connect(gain);
      osc.onended = () => {
        this.playing.delete(osc);
        osc.disconnect();
      };
      osc.start(start);
      osc.stop(end);
      this.playing.add(osc);
    }
  }
}

// ------------------------------------------------------------------ state

const params = new URLSearchParams(location.search);
const rtcConfig: Partial<RTCConfiguration> = {};
const policy = params.get('iceTransportPolicy');
if (policy === 'relay' || policy === 'all') rtcConfig.iceTransportPolicy = policy;

const client = new SwitchboardClient({ rtcConfig });
const tones = new Tones();
let current: Call | undefined;
let signingOut = false;

window.switchboard = {
  client,
  get call() {
    return current;
  },
};

const LIVE_MEDIA_STATES: ReadonlySet<CallState> = new Set(['connecting', 'active']);
const BASE_TITLE = document.title;

// ------------------------------------------------------------------ helpers

function showError(error: unknown): void {
  let text: string;
  if (error instanceof SwitchboardError) text = `${error.code}: ${error.message}`;
  else if (error instanceof Error) text = `error: ${error.message}`;
  else text = String(error);
  ui.error.textContent = text;
  ui.toast.hidden = false;
}

function hideError(): void {
  ui.toast.hidden = true;
}

function setConnection(status: 'offline' | 'connecting' | 'online'): void {
  ui.connection.dataset.status = status;
  ui.connectionText.textContent = { offline: 'Offline', connecting: 'Connecting…', online: 'Online' }[status];
}

function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

function callDuration(call: Call): number {
  const start = call.connectedAt ?? call.answeredAt;
  if (!start) return 0;
  return (call.endedAt ?? new Date()).getTime() - start.getTime();
}

function displayName(call: Call): string {
  return call.remoteName ? `${call.remoteName} (${call.remote})` : call.remote;
}

/** `bob` means `web:bob`; numbers (the gateway makes them `tel:`) and addresses with a scheme are left alone. */
function normalizeAddress(input: string): string {
  const value = input.trim();
  return value.includes(':') || /^\+?[0-9*#]+$/.test(value) ? value : `web:${value}`;
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

  ui.call.disabled = live;
  ui.dial.disabled = live;
  ui.hangup.disabled = !live;
  ui.mute.disabled = !live || call.state === 'incoming';
  ui.hold.disabled = !live || !LIVE_MEDIA_STATES.has(call.state);
  ui.mute.textContent = live && call.muted ? 'Unmute' : 'Mute';
  ui.mute.setAttribute('aria-pressed', String(live && call.muted));
  ui.hold.textContent = live && call.onHold ? 'Resume' : 'Hold';
  ui.hold.setAttribute('aria-pressed', String(live && call.onHold));
  ui.keypad.classList.toggle('in-call', live && LIVE_MEDIA_STATES.has(call.state));

  if (call?.endReason) {
    ui.endReason.textContent = call.endReason;
    ui.endReason.title = call.endDetail ?? '';
    ui.endReasonWrap.hidden = false;
  }
  renderTimer();

  tones.set(!live ? 'off' : call.state === 'incoming' ? 'ring' : call.state === 'ringing' ? 'ringback' : 'off');
  document.title = live && call.state === 'incoming' ? `Incoming call · ${BASE_TITLE}` : BASE_TITLE;
}

function renderTimer(): void {
  const call = current;
  ui.timer.textContent = call && (call.state === 'active' || call.state === 'ended') && (call.connectedAt ?? call.answeredAt)
    ? formatDuration(callDuration(call))
    : '';
}

function renderUsers(): void {
  const online = [...client.presence]
    .filter(([user, status]) => status === 'online' && user !== client.user)
    .map(([user]) => user)
    .sort((a, b) => a.localeCompare(b));
  ui.users.replaceChildren(
    ...online.map((user) => {
      const li = document.createElement('li');
      li.dataset.user = user;
      li.tabIndex = 0;
      li.title = `Click to dial web:${user}, double-click to call`;
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.setAttribute('aria-hidden', 'true');
      const name = document.createElement('span');
      name.className = 'user-name';
      name.textContent = user;
      li.append(dot, name);
      return li;
    }),
  );
  ui.usersCount.textContent = String(online.length);
  ui.usersEmpty.hidden = online.length > 0;
}

function addLogEntry(call: Call): void {
  const li = document.createElement('li');
  li.className = 'log-entry';
  li.dataset.direction = call.direction;
  li.dataset.reason = call.endReason ?? 'failed';
  li.dataset.remote = call.remote;
  li.title = `${call.createdAt.toLocaleString()}${call.endDetail ? ` — ${call.endDetail}` : ''}\nClick to dial again`;

  const remote = document.createElement('span');
  remote.className = 'log-remote';
  remote.textContent = displayName(call);
  const meta = document.createElement('span');
  meta.className = 'log-meta';
  const direction = document.createElement('span');
  direction.className = 'log-direction';
  direction.textContent = call.direction;
  const duration = document.createElement('span');
  duration.className = 'log-duration';
  duration.textContent = formatDuration(callDuration(call));
  const reason = document.createElement('span');
  reason.className = 'log-reason';
  reason.textContent = call.endReason ?? 'failed';
  meta.append(direction, ' · ', duration, ' · ', reason);
  const time = document.createElement('time');
  time.className = 'log-time';
  time.dateTime = call.createdAt.toISOString();
  time.textContent = call.createdAt.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

  li.append(remote, meta, time);
  ui.log.prepend(li);
  while (ui.log.children.length > 50) ui.log.lastElementChild?.remove();
  ui.logEmpty.hidden = true;
}

function showLoggedIn(user: string, address: string): void {
  ui.me.textContent = user;
  ui.myAddress.textContent = address;
  ui.loginCard.hidden = true;
  ui.phone.hidden = false;
  setConnection('online');
  renderUsers();
  render();
  ui.dial.focus();
}

function showLoggedOut(): void {
  ui.phone.hidden = true;
  ui.loginCard.hidden = false;
  ui.login.disabled = false;
  ui.login.textContent = 'Sign in';
  setConnection('offline');
  renderUsers();
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
  call.on('ended', () => {
    addLogEntry(call);
    if (current === call || current === undefined) ui.remoteAudio.srcObject = null;
    render();
  });
  render();
}

client.on('call', adopt);
client.on('incoming', () => render());
client.on('presence', renderUsers);
client.on('error', showError);
client.on('disconnected', ({ code, reason }) => {
  showLoggedOut();
  if (!signingOut) showError(new SwitchboardError('connection-closed', `disconnected (${code}${reason ? ` ${reason}` : ''})`));
  signingOut = false;
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
    const welcome = await client.login(token ? { token } : { name });
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
  client.close(); // emits `disconnected` synchronously
  signingOut = false;
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
    await client.call(to, transferId ? { transferId } : {});
  } catch (error) {
    showError(error);
  } finally {
    render();
  }
}

ui.answer.addEventListener('click', () => {
  const call = current;
  if (!call || call.state !== 'incoming') return;
  tones.unlock();
  ui.answer.disabled = true;
  call
    .answer()
    .catch(showError)
    .finally(() => {
      ui.answer.disabled = false;
      render();
    });
});

ui.reject.addEventListener('click', () => {
  if (current?.state === 'incoming') current.reject('declined');
});

ui.hangup.addEventListener('click', () => current?.hangup());

ui.mute.addEventListener('click', () => {
  if (!current?.live) return;
  current.setMuted(!current.muted);
  render();
});

ui.hold.addEventListener('click', () => {
  const call = current;
  if (!call?.live) return;
  ui.hold.disabled = true;
  call
    .hold(!call.onHold)
    .catch(showError)
    .finally(render);
});

function pressDigit(digit: string): void {
  tones.unlock();
  tones.dtmf(digit);
  const call = current;
  if (call?.live && LIVE_MEDIA_STATES.has(call.state)) {
    try {
      call.sendDtmf(digit);
    } catch (error) {
      showError(error);
    }
    return;
  }
  if (!ui.dial.disabled) {
    ui.dial.value += digit;
    ui.dial.focus();
  }
}

ui.keypad.addEventListener('click', (event) => {
  const button = (event.target as Element).closest<HTMLButtonElement>('button[data-digit]');
  if (button?.dataset.digit) pressDigit(button.dataset.digit);
});

// Digits typed outside a text field go to the keypad during a call.
document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target as HTMLElement | null;
  if (target?.closest('input, textarea, select')) return;
  if (current?.live && LIVE_MEDIA_STATES.has(current.state) && /^[0-9*#]$/.test(event.key)) {
    pressDigit(event.key);
  }
});

function pickUser(event: Event): HTMLElement | undefined {
  return (event.target as Element).closest<HTMLElement>('li[data-user]') ?? undefined;
}

ui.users.addEventListener('click', (event) => {
  const li = pickUser(event);
  if (!li || ui.dial.disabled) return;
  ui.dial.value = `web:${li.dataset.user}`;
  ui.dial.focus();
});
ui.users.addEventListener('dblclick', (event) => {
  const li = pickUser(event);
  if (li) void dial(`web:${li.dataset.user}`);
});
ui.users.addEventListener('keydown', (event) => {
  const li = pickUser(event);
  if (li && event.key === 'Enter') void dial(`web:${li.dataset.user}`);
});

ui.log.addEventListener('click', (event) => {
  const li = (event.target as Element).closest<HTMLElement>('li[data-remote]');
  if (!li || ui.dial.disabled) return;
  ui.dial.value = li.dataset.remote ?? '';
  ui.dial.focus();
});

ui.toastClose.addEventListener('click', hideError);

// ------------------------------------------------------------------ start

const presetName = params.get('name');
if (presetName) ui.name.value = presetName;
showLoggedOut();
(presetName ? ui.login : ui.name).focus();
