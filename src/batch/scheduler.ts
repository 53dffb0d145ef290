/**
 * Runs work for a stream of items with backpressure: the next item is read only when fewer than `maxOpen`
 * are unsettled and `ready(position)` allows it, so a batch holds what is in flight, not what is to come.
 * After a failure no new item starts; the first failure is thrown once everything started has settled.
 */
export interface ScheduleOptions {
  maxOpen: number;
  /** Whether the item at `position` may start now (asked again after each item settles). */
  ready?: (position: number) => boolean;
}

export async function forEachBounded<T>(
  items: AsyncIterable<T> | Iterable<T>,
  work: (item: T, position: number) => Promise<void>,
  options: ScheduleOptions,
): Promise<void> {
  let open = 0;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const settled = () => {
    open--;
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const waitForOne = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });
  let position = 0;
  try {
    for await (const item of items) {
      while (
        failure === undefined &&
        (open >= options.maxOpen || (open > 0 && options.ready?.(position) === false))
      ) {
        await waitForOne();
      }
      if (failure !== undefined) break;
      open++;
      work(item, position++).then(settled, (error: unknown) => {
        failure ??= { error };
        settled();
      });
    }
  } catch (error) {
    failure ??= { error };
  }
  while (open > 0) await waitForOne();
  if (failure !== undefined) throw failure.error;
}
