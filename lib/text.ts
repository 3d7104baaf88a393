// Text that came from a target (a probe's output with an answer's body in it, an event message)
// before the kit keeps or shows it: control characters escaped, so a hostile body cannot drive a
// terminal or a page, and the length capped, so it cannot fill memory through the histories.

/** How much of such a text is kept: a status line and some of a body, as a person would read it. */
export const MAX_KEPT_CHARS = 1024;

// C0 controls but tab, DEL and C1 controls.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/** `text` with control characters written as \xNN and at most `max` characters of it kept. */
export function keepable(text: string, max: number = MAX_KEPT_CHARS): string {
  const head = text.length > max ? text.slice(0, max) : text;
  const escaped = head.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return text.length > max ? `${escaped}... (${text.length - max} more characters)` : escaped;
}
