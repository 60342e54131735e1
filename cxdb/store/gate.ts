/**
 * The per-context gate that keeps compare-and-set appends honest: plain
 * appends of a context run side by side, an append with an explicit parent
 * runs alone, after the context's earlier appends and before its later ones.
 *
 * @module
 */

/** One context's gate. */
export interface Gate {
  /** Plain appends of the context under way. */
  active: number;
  /** Resolves when `active` drops to 0, while someone waits for that. */
  drained?: { promise: Promise<void>; resolve: () => void };
  barrier?: Promise<void>;
}

/** The gates of every context this store appended to. */
export class ContextGates {
  #gates = new Map<string, Gate>();

  /** The context's gate, created on first use. */
  gate(contextId: string): Gate {
    let g = this.#gates.get(contextId);
    if (!g) this.#gates.set(contextId, g = { active: 0 });
    return g;
  }

  /** Runs `fn` alongside the context's other plain appends. */
  async shared<T>(contextId: string, fn: () => Promise<T>): Promise<T> {
    const g = this.gate(contextId);
    while (g.barrier) await g.barrier;
    g.active++;
    try {
      return await fn();
    } finally {
      leave(g);
    }
  }

  /** Runs `fn` alone: after the context's earlier appends, before its later ones. */
  async exclusive<T>(contextId: string, fn: () => Promise<T>): Promise<T> {
    const g = this.gate(contextId);
    while (g.barrier) await g.barrier;
    let release!: () => void;
    g.barrier = new Promise<void>((r) => release = r);
    try {
      if (g.active > 0) {
        g.drained ??= Promise.withResolvers<void>();
        await g.drained.promise;
      }
      return await fn();
    } finally {
      g.barrier = undefined;
      release();
    }
  }
}

/** Ends one plain append that entered `g` (`g.active++`), waking an exclusive one waiting. */
export function leave(g: Gate): void {
  if (--g.active === 0 && g.drained) {
    g.drained.resolve();
    g.drained = undefined;
  }
}
