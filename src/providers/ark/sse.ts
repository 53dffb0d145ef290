/**
 * A minimal Server-Sent Events reader for Ark's streamed image answers: `event:` / `data:` lines, events
 * separated by a blank line, `data: [DONE]` at the end. Pure over an async iterable of byte chunks.
 */

export interface SseEvent {
  event?: string;
  data: string;
}

/** The events of an SSE byte stream, in order; stops at `data: [DONE]`. */
export async function* readSse(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let event: string | undefined;
  let data: string[] = [];
  const flush = (): SseEvent | undefined => {
    if (data.length === 0) {
      event = undefined;
      return undefined;
    }
    const out: SseEvent = { data: data.join("\n"), ...(event !== undefined ? { event } : {}) };
    event = undefined;
    data = [];
    return out;
  };
  for await (const chunk of chunks) {
    buffer += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
      if (line === "") {
        const done = flush();
        if (done?.data === "[DONE]") return;
        if (done) yield done;
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
  }
  const last = flush();
  if (last && last.data !== "[DONE]") yield last;
}

/** One SSE event as text (the emulator's side). */
export function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
