/** Server-sent events as a test reads them (GET /v1/events). */
export interface SseEvent {
  id: string;
  event: string;
  data: any;
}

/** Reads a text/event-stream response until `done` says enough; at the timeout, returns what came (or throws, if `strict`). */
export async function readEvents(
  res: Response,
  done: (events: SseEvent[]) => boolean,
  timeoutMs = 30_000,
  strict = true,
): Promise<SseEvent[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done(events)) {
      const left = deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const next = await Promise.race([reader.read(), new Promise<null>((r) => (timer = setTimeout(() => r(null), Math.max(0, left))))]);
      // A timer left pending would keep jest alive for up to timeoutMs after the run.
      clearTimeout(timer);
      if (next === null) {
        if (strict) throw new Error(`stream gave ${JSON.stringify(events)} before the timeout`);
        break;
      }
      const { value, done: ended } = next;
      if (ended) break;
      text += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((l) => l.startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
        const data = field('data');
        if (data) events.push({ id: field('id') ?? '', event: field('event') ?? 'message', data: JSON.parse(data) });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}
