/** The demo page's elements, looked up once; a missing one is a bug in index.html. */

export function elementById<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as T;
}

const $ = elementById;

export const ui = {
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
  registrations: $<HTMLUListElement>('registrations'),
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
  reconnectBanner: $('reconnect-banner'),
  reconnectDetail: $('reconnect-detail'),
  mediaPanel: $('media-panel'),
  micLevel: $('mic-level'),
  remoteLevel: $('remote-level'),
  qualityCodec: $('q-codec'),
  qualityRtt: $('q-rtt'),
  qualityJitter: $('q-jitter'),
  qualityLoss: $('q-loss'),
  qualityPath: $('q-path'),
  micSelect: $<HTMLSelectElement>('mic-select'),
  speakerSelect: $<HTMLSelectElement>('speaker-select'),
};
