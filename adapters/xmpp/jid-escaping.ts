/** XEP-0106 section 4.2: the escapes a JID local part may carry for characters it cannot hold. */
const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['20', ' '],
  ['22', '"'],
  ['26', '&'],
  ['27', "'"],
  ['2f', '/'],
  ['3a', ':'],
  ['3c', '<'],
  ['3e', '>'],
  ['40', '@'],
  ['5c', '\\'],
]);

/**
 * Unescapes a local part (`bob\40pbx.example.com` → `bob@pbx.example.com`), so a component JID
 * can name a SIP address. Sequences that are not escapes stay as they are (section 4.3). Pure.
 */
export function unescapeJidLocal(local: string): string {
  return local.replace(/\\([0-9a-fA-F]{2})/g, (sequence, hex: string) => ESCAPES.get(hex.toLowerCase()) ?? sequence);
}
