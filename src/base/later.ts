/**
 * The result of `f` as a promise to be awaited later (a throw becomes a rejection). A handler is
 * attached at once, so a rejection that waits its turn (a verification queued behind others) is
 * never reported as unhandled meanwhile; whoever awaits it still sees the rejection.
 */
export function awaitedLater<T>(f: () => T | Promise<T>): Promise<T> {
  let p: Promise<T>;
  try {
    p = Promise.resolve(f());
  } catch (e) {
    p = Promise.reject(e);
  }
  p.catch(() => undefined);
  return p;
}
