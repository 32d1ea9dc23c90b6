type Listener = (...args: never[]) => void;

/** A tiny typed event emitter: `Events` maps each event name to its listener's argument tuple. */
export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>();

  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const stored = listener as unknown as Listener;
    set.add(stored);
    return () => set.delete(stored);
  }

  emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as unknown as (...args: Events[E]) => void)(...args);
      } catch (error) {
        // One broken listener must not stop the others (or the call).
        console.error(`listener for "${String(event)}" failed`, error);
      }
    }
  }
}
