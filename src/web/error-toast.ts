/** The page's one error line at the bottom: SDK errors show their protocol code. */

import { SwitchboardError } from '../client/index.js';
import { ui } from './page-elements.js';

/** Error text for people: `code: message` for SDK errors. */
export function errorMessage(error: unknown): string {
  if (error instanceof SwitchboardError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return `error: ${error.message}`;
  return String(error);
}

export function showError(error: unknown): void {
  ui.error.textContent = errorMessage(error);
  ui.toast.hidden = false;
}

export function hideError(): void {
  ui.toast.hidden = true;
}

ui.toastClose.addEventListener('click', hideError);
