/**
 * Telling a question to the user from a statement, for the session's
 * `awaiting_input` state (coding-agent-loop spec §2.3).
 *
 * @module
 */

/**
 * Whether a text-only reply asks the user something: its last line, past
 * closing markup (`**`, quotes, brackets), ends with a question mark.
 */
export function endsWithQuestion(text: string): boolean {
  const last = text.trimEnd().split("\n").at(-1) ?? "";
  const bare = last.replace(/[\s*_`'"\u2019\u201D)\]]+$/u, "");
  return bare.endsWith("?") || bare.endsWith("\uFF1F");
}
