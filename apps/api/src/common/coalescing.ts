/**
 * A trigger for `run` that never runs it twice at once: a call while it runs makes it run once more right after
 * (however many calls came meanwhile). For reads that follow announcements: a burst of them costs one or two reads.
 */
export function coalescing(run: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const trigger = () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    run().finally(() => {
      running = false;
      if (again) {
        again = false;
        trigger();
      }
    });
  };
  return trigger;
}
