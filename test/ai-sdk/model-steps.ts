/**
 * What a mock language model answers in one generateText step, in the shape the AI SDK's V3 and V4 model
 * interfaces share (AI SDK 6 and 7): a call of one of our tools, or a final text.
 */
export const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};

export function toolCall(id: string, toolName: string, input: unknown) {
  return {
    content: [{ type: 'tool-call' as const, toolCallId: id, toolName, input: JSON.stringify(input) }],
    finishReason: { unified: 'tool-calls' as const, raw: undefined },
    usage,
    warnings: [],
  };
}

export function text(answer: string) {
  return {
    content: [{ type: 'text' as const, text: answer }],
    finishReason: { unified: 'stop' as const, raw: undefined },
    usage,
    warnings: [],
  };
}
