/**
 * The "Chat" card: one-to-one messages with web users (`web:bob`) and XMPP
 * contacts (`xmpp:carol@example.org`) through `client.sendMessage()`.
 * Incoming `message` events open or extend their conversation; a refused
 * message (the `sendMessage()` error) or a later bounce (`messageerror`) is
 * marked on the message itself, with the gateway's code and reason.
 */

import type { SwitchboardClient } from '../client/index.js';
import { normalizeAddress } from './call-display.js';
import { ChatConversations, type ChatEntry, type Conversation } from './chat-conversations.js';
import { errorMessage, showError } from './error-toast.js';
import { onlineUsers } from './online-users.js';
import { elementById as $ } from './page-elements.js';

const STATUS_TEXT: Record<ChatEntry['status'], string> = { sending: 'sending…', sent: 'sent', failed: 'not delivered', received: '' };

export class ChatPanel {
  private readonly conversations = new ChatConversations();
  private readonly rendered = new Map<ChatEntry, HTMLLIElement>();
  private readonly el = {
    openForm: $<HTMLFormElement>('chat-open-form'),
    to: $<HTMLInputElement>('chat-to'),
    contacts: $<HTMLDataListElement>('chat-contacts'),
    list: $<HTMLUListElement>('chat-conversations'),
    peer: $('chat-peer'),
    messages: $<HTMLOListElement>('chat-messages'),
    empty: $('chat-empty'),
    form: $<HTMLFormElement>('chat-form'),
    input: $<HTMLInputElement>('chat-input'),
    send: $<HTMLButtonElement>('chat-send'),
  };

  constructor(private readonly client: SwitchboardClient) {
    client.on('message', ({ from, body }) => this.onReceived(from, body));
    client.on('messageerror', ({ id, to, code, message }) => this.onBounced(id, to, `${code}: ${message}`));
    client.on('presence', () => this.renderContacts());
    this.el.openForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.openFromInput();
    });
    // A plain <input> in a <form>: Enter submits, so Enter sends.
    this.el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.send();
    });
    this.el.list.addEventListener('click', (event) => {
      const address = (event.target as Element).closest<HTMLElement>('button[data-address]')?.dataset.address;
      if (address) this.show(address);
    });
    this.renderAll();
  }

  /** Logged out: conversations belong to the session. */
  reset(): void {
    this.conversations.clear();
    this.el.to.value = '';
    this.el.input.value = '';
    this.renderAll();
  }

  // ------------------------------------------------------------------ actions

  private openFromInput(): void {
    const value = this.el.to.value.trim();
    if (!value) {
      this.el.to.focus();
      return;
    }
    this.el.to.value = '';
    this.show(normalizeAddress(value));
    this.el.input.focus();
  }

  private show(address: string): void {
    this.conversations.open(address);
    this.renderAll();
  }

  private async send(): Promise<void> {
    const conversation = this.conversations.selected;
    const body = this.el.input.value;
    if (!conversation) {
      this.el.to.focus();
      return;
    }
    if (!body.trim()) return;
    this.el.input.value = '';
    const { entry } = this.conversations.sending(conversation.address, body);
    this.appendEntry(conversation, entry);
    this.renderList();
    try {
      entry.requestId = await this.client.sendMessage(conversation.address, body);
      entry.status = 'sent';
    } catch (error) {
      entry.status = 'failed';
      entry.error = errorMessage(error);
    }
    this.updateEntry(entry);
  }

  private onReceived(from: string, body: string): void {
    const { conversation, entry } = this.conversations.received(from, body);
    if (conversation === this.conversations.selected && this.el.messages.dataset.address === conversation.address) {
      this.appendEntry(conversation, entry);
      this.renderList();
    } else {
      this.renderAll();
    }
  }

  private onBounced(id: string | undefined, to: string, reason: string): void {
    const entry = this.conversations.bounced(id, to);
    if (!entry) {
      showError(`A message to ${to} was not delivered (${reason})`);
      return;
    }
    entry.status = 'failed';
    entry.error = reason;
    this.updateEntry(entry);
  }

  // ------------------------------------------------------------------ rendering

  private renderAll(): void {
    this.renderList();
    this.renderContacts();
    const conversation = this.conversations.selected;
    this.rendered.clear();
    this.el.messages.replaceChildren();
    this.el.messages.dataset.address = conversation?.address ?? '';
    this.el.peer.textContent = conversation ? conversation.address : '';
    this.el.peer.hidden = !conversation;
    this.el.messages.setAttribute('aria-label', conversation ? `Messages with ${conversation.address}` : 'Messages');
    for (const entry of conversation?.entries ?? []) this.appendEntry(conversation!, entry);
    this.el.empty.hidden = conversation !== undefined;
    this.el.input.disabled = !conversation;
    this.el.send.disabled = !conversation;
    // The address is in the card's header; a short placeholder is not cut off in the narrow column.
    this.el.input.placeholder = conversation ? 'Write a message…' : 'Open a conversation first';
  }

  private renderList(): void {
    const selected = this.conversations.selected;
    const conversations = this.conversations.list();
    this.el.list.replaceChildren(
      ...conversations.map((conversation) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'chat-conversation';
        button.dataset.address = conversation.address;
        if (conversation === selected) button.setAttribute('aria-current', 'true');
        const name = document.createElement('span');
        name.className = 'chat-conversation-name';
        name.textContent = conversation.address;
        button.append(name);
        if (conversation.unread > 0) {
          const unread = document.createElement('span');
          unread.className = 'count';
          unread.textContent = String(conversation.unread);
          unread.setAttribute('aria-label', `${conversation.unread} unread`);
          button.append(unread);
        }
        const li = document.createElement('li');
        li.append(button);
        return li;
      }),
    );
    this.el.list.hidden = conversations.length === 0;
  }

  /** Suggestions for the address field: online web users and earlier conversations. */
  private renderContacts(): void {
    const addresses = new Set([...onlineUsers(this.client).map((user) => `web:${user}`), ...this.conversations.list().map((c) => c.address)]);
    this.el.contacts.replaceChildren(
      ...[...addresses].map((address) => {
        const option = document.createElement('option');
        option.value = address;
        return option;
      }),
    );
  }

  private appendEntry(conversation: Conversation, entry: ChatEntry): void {
    if (this.el.messages.dataset.address !== conversation.address) return;
    const li = document.createElement('li');
    this.rendered.set(entry, li);
    this.fillEntry(li, entry);
    this.el.messages.append(li);
    // Scroll the list only, not the page (scrollIntoView would move the window too).
    this.el.messages.scrollTop = this.el.messages.scrollHeight;
  }

  private updateEntry(entry: ChatEntry): void {
    const li = this.rendered.get(entry);
    if (li) this.fillEntry(li, entry);
  }

  private fillEntry(li: HTMLLIElement, entry: ChatEntry): void {
    li.className = 'chat-message';
    li.dataset.direction = entry.direction;
    li.dataset.status = entry.status;
    const body = document.createElement('p');
    body.className = 'chat-body';
    body.textContent = entry.body;
    const meta = document.createElement('span');
    meta.className = 'chat-meta';
    const time = document.createElement('time');
    time.dateTime = entry.at.toISOString();
    time.textContent = entry.at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    meta.append(time);
    if (STATUS_TEXT[entry.status]) meta.append(' · ', STATUS_TEXT[entry.status]);
    li.replaceChildren(body, meta);
    if (entry.error) {
      const error = document.createElement('span');
      error.className = 'chat-error';
      error.textContent = entry.error;
      li.append(error);
    }
  }
}
