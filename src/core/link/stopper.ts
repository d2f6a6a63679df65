/**
 * Bounded shutdown (the link's stop):
 *   Stopper: every step that waits on the network (dial, Ping, handshake in either direction)
 *     registers an abort; stop() runs each abort once, so nothing that was waiting is left
 *     waiting, whatever the remote does and whatever the injected clock does. A step registered
 *     after stop is aborted at once.
 */
export class Stopper {
  private readonly aborts = new Set<(error: Error) => void>();
  private error?: Error;

  get stopped(): boolean {
    return this.error !== undefined;
  }

  /** Run `abort` at stop (now, when already stopped); returns the function that forgets it. */
  onStop(abort: (error: Error) => void): () => void {
    if (this.error) {
      abort(this.error);
      return () => undefined;
    }
    this.aborts.add(abort);
    return () => this.aborts.delete(abort);
  }

  /** Abort everything registered (once); later registrations abort at once. */
  stop(error: Error): void {
    if (this.error) return;
    this.error = error;
    const all = [...this.aborts];
    this.aborts.clear();
    for (const abort of all) {
      try {
        abort(error);
      } catch {
        /* an abort's failure must not keep the others from running */
      }
    }
  }

  /** How many aborts wait (diagnostics and tests). */
  get pending(): number {
    return this.aborts.size;
  }
}
