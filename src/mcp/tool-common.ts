/** Hints every tool declares of its effects (MCP tool annotations). */
export const writes = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
};
export const deletes = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: false,
};
export const reads = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

export function json<T extends Record<string, unknown>>(shown: unknown, structured: T) {
  return {
    content: [{ type: 'text' as const, text: JSON.stringify(shown, null, 2) }],
    structuredContent: structured,
  };
}

export function done(message: string) {
  return {
    content: [{ type: 'text' as const, text: message }],
    structuredContent: { success: true, message },
  };
}
