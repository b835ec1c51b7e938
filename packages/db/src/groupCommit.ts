/**
 * Group commit: while `maxInFlight` statements run, newly submitted items wait, and are then written together,
 * in one statement and one commit. At low load every item goes alone at once; under load a statement and a
 * commit (a flush to disk, where most of the database's time per write goes) serve many items. Each caller
 * still learns of its own item only after the commit that wrote it.
 *
 * Used by ingestion (a request's events are one item) and by the worker (a successful attempt is one item).
 */
export interface GroupCommit<Item, Result> {
  /**
   * Resolves with the result of the commit that wrote `item`. Rejects with `signal`'s reason, writing nothing,
   * if it aborts while the item still waits for its turn (once its statement has begun, the item completes).
   */
  submit(item: Item, signal?: AbortSignal): Promise<Result>;
  /** How long the oldest item still waiting for its statement has waited, in ms; 0 when none waits. */
  oldestWaitMs(): number;
}

export interface GroupCommitOptions<Item, Result> {
  /** Statements at once. */
  readonly maxInFlight: number;
  /** The most one statement carries, in `weight`s; an item heavier than this still goes, alone. */
  readonly maxWeight: number;
  /** An item's share of `maxWeight` (its rows, say). Default 1. */
  readonly weight?: (item: Item) => number;
  /** Writes the items in one statement; every item of the group resolves with what it answers. */
  readonly commit: (items: readonly Item[]) => Promise<Result>;
  /**
   * Whether, after a group's statement failed with `error`, each of its items is written again alone, so that
   * only a bad one fails. Default: always. (Not when the database is down: every item would fail again.)
   */
  readonly retryAlone?: (error: unknown) => boolean;
}

interface Waiting<Item, Result> {
  readonly item: Item;
  readonly queuedAt: number;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

export function createGroupCommit<Item, Result>(options: GroupCommitOptions<Item, Result>): GroupCommit<Item, Result> {
  const queue: Waiting<Item, Result>[] = [];
  const weight = options.weight ?? (() => 1);
  let inFlight = 0;

  const nextGroup = (): Waiting<Item, Result>[] => {
    const group: Waiting<Item, Result>[] = [];
    let size = 0;
    for (let next = queue[0]; next !== undefined; next = queue[0]) {
      if (group.length > 0 && size + weight(next.item) > options.maxWeight) break;
      group.push(next);
      size += weight(next.item);
      queue.shift();
    }
    return group;
  };

  const pump = () => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const group = nextGroup();
      inFlight += 1;
      void commitGroup(options, group).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  };

  return {
    submit: (item, signal) =>
      new Promise<Result>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const waiting: Waiting<Item, Result> = { item, queuedAt: performance.now(), resolve, reject };
        queue.push(waiting);
        signal?.addEventListener("abort", () => withdraw(queue, waiting, signal.reason), { once: true });
        pump();
      }),
    oldestWaitMs: () => (queue[0] === undefined ? 0 : performance.now() - queue[0].queuedAt),
  };
}

/** Takes a waiting item out of the queue, rejecting it; an item already in a statement is left to complete. */
function withdraw<Item, Result>(queue: Waiting<Item, Result>[], waiting: Waiting<Item, Result>, reason: unknown): void {
  const index = queue.indexOf(waiting);
  if (index === -1) return;
  queue.splice(index, 1);
  waiting.reject(reason);
}

async function commitGroup<Item, Result>(
  options: GroupCommitOptions<Item, Result>,
  group: readonly Waiting<Item, Result>[],
): Promise<void> {
  try {
    const result = await options.commit(group.map((waiting) => waiting.item));
    for (const waiting of group) waiting.resolve(result);
  } catch (error) {
    if (group.length === 1 || !(options.retryAlone?.(error) ?? true)) {
      for (const waiting of group) waiting.reject(error);
      return;
    }
    await Promise.all(group.map((waiting) => options.commit([waiting.item]).then(waiting.resolve, waiting.reject)));
  }
}
