/**
 * The chat panel's state, without any DOM: one conversation per address, its
 * messages and what became of each one we sent. An address is a conversation's
 * key as the gateway writes it (`web:bob`, `xmpp:carol@example.org`), so replies
 * land in the conversation the message went out from.
 */

export type ChatStatus = 'sending' | 'sent' | 'failed' | 'received';

export interface ChatEntry {
  readonly direction: 'in' | 'out';
  readonly body: string;
  readonly at: Date;
  status: ChatStatus;
  /** The request id `sendMessage()` resolved with; a later `messageerror` carries it. */
  requestId?: string;
  /** Why it was not delivered (`failed`). */
  error?: string;
}

export interface Conversation {
  readonly address: string;
  readonly entries: ChatEntry[];
  /** Received while another conversation was shown. */
  unread: number;
}

export class ChatConversations {
  private readonly byAddress = new Map<string, Conversation>();
  private selectedAddress: string | undefined;

  get selected(): Conversation | undefined {
    return this.selectedAddress === undefined ? undefined : this.byAddress.get(this.selectedAddress);
  }

  /** In the order they were opened: a stable order, so the conversation buttons do not move under the pointer. */
  list(): Conversation[] {
    return [...this.byAddress.values()];
  }

  /** The conversation with `address`, created if new, and shown. */
  open(address: string): Conversation {
    const conversation = this.conversation(address);
    this.selectedAddress = address;
    conversation.unread = 0;
    return conversation;
  }

  /** A message for this user: shown at once when nothing else is, else counted as unread. */
  received(from: string, body: string): { conversation: Conversation; entry: ChatEntry } {
    if (this.selectedAddress === undefined) this.selectedAddress = from;
    const conversation = this.conversation(from);
    const entry: ChatEntry = { direction: 'in', body, at: new Date(), status: 'received' };
    this.append(conversation, entry);
    if (conversation !== this.selected) conversation.unread += 1;
    return { conversation, entry };
  }

  /** A message this user is sending to `to`. */
  sending(to: string, body: string): { conversation: Conversation; entry: ChatEntry } {
    const conversation = this.conversation(to);
    const entry: ChatEntry = { direction: 'out', body, at: new Date(), status: 'sending' };
    this.append(conversation, entry);
    return { conversation, entry };
  }

  /** A bounce of a message we sent: the entry with that request id, or else the newest `sent` one to `to`. */
  bounced(requestId: string | undefined, to: string): ChatEntry | undefined {
    const candidates = this.byAddress.get(to)?.entries ?? [...this.byAddress.values()].flatMap((c) => c.entries);
    const byId = requestId === undefined ? undefined : candidates.find((entry) => entry.requestId === requestId);
    return byId ?? [...candidates].reverse().find((entry) => entry.direction === 'out' && entry.status === 'sent');
  }

  conversationOf(entry: ChatEntry): Conversation | undefined {
    return [...this.byAddress.values()].find((conversation) => conversation.entries.includes(entry));
  }

  clear(): void {
    this.byAddress.clear();
    this.selectedAddress = undefined;
  }

  private conversation(address: string): Conversation {
    let conversation = this.byAddress.get(address);
    if (!conversation) {
      conversation = { address, entries: [], unread: 0 };
      this.byAddress.set(address, conversation);
    }
    return conversation;
  }

  private append(conversation: Conversation, entry: ChatEntry): void {
    conversation.entries.push(entry);
  }
}
