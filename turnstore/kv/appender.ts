/**
 * Group commit. Appends queue up while a commit is in flight; each round
 * takes the queue, plans the turns of as many contexts as the target allows
 * checks (10 over KV Connect, 100 on a local KV) against their heads, and
 * writes them in ONE atomic commit whose only checks are one per context,
 * however many turns of that context the commit chains: "the slot above the head is still empty". That check also proves
 * that no idempotency key of the context appeared since the head was
 * observed, because every write to a context's keys fills that slot. A failed
 * check means another writer moved a head: the round's appends are
 * re-planned from fresh reads. The turns a commit chains on a context are
 * stored as few rows, turn packs (turn_pack.ts), and its keys as one key
 * block (key_blocks.ts), so a commit of many small appends is a handful of
 * mutations; what one context's share of a commit costs and writes is
 * context_commit.ts.
 *
 * Over KV Connect, while rounds are cut into quick commits, a round may be
 * planned and sent while earlier ones are in flight (up to
 * `KvLimits.commitsInFlight`), on the heads they will write:
 * each such commit checks that the one before it deleted its token
 * (commit_chain.ts), so it cannot land unless that one did. Only rounds that
 * need no reads overlap (heads known, no idempotency keys, no explicit
 * parent other than the head); any other round, and any failure, first
 * waits for everything in flight.
 *
 * @module
 */
import { BackendError, NotFoundError, TurnStoreError } from "../core/errors.ts";
import type { IdBlocks } from "./id_blocks.ts";
import type { AppendedTurn } from "../core/types.ts";
import type { ValidAppend } from "../core/validate.ts";
import { foreignParent, replayIdempotent, staleParent } from "../core/rules.ts";
import { BudgetedAtomic, type CommitObserver } from "./budget.ts";
import type { HeadState, History } from "./history.ts";
import { type StoredBytes, turnKey, type TurnValue } from "./keys.ts";
import { LruMap } from "./lru.ts";
import { encodeTurnValue, setTurnRowIds } from "./turn_value.ts";
import { BODY_ROW_ABOVE, KV_CONNECT_LIMITS, type KvLimits } from "./limits.ts";
import { ContextKeyBlocks } from "./key_blocks.ts";
import { ContextCommit, type Run } from "./context_commit.ts";
import { QuickCommits } from "./quick_commits.ts";
import { CommitChain, type Token, TOKEN_KEY_BYTES } from "./commit_chain.ts";
import { tokenKey } from "./keys.ts";
import {
  type ContextKeys,
  findKey,
  type FoundKeys,
  KEY_BLOCK_CAP,
  KEY_BLOCKS_PER_CONTEXT,
  KeyIndex,
} from "./key_index.ts";

/** One append waiting for its commit (what {@link GroupCommitAppender.submit} takes). */
interface PendingAppend {
  /** The checked request; its payload is the store's own copy. */
  readonly req: ValidAppend;
  /** The context as a key part. */
  readonly ctx: bigint;
  /** BLAKE3 of the payload. */
  readonly contentHash: string;
  /**
   * What the append needs before it can be planned: the payload as the
   * record stores it (chunks written) and whether the fs root is missing.
   * A promise while chunks are being written; the append keeps its place in
   * the queue meanwhile, so appends to a context commit in call order.
   */
  readonly prepared: Prepared | Promise<PreparedAppend>;
  /** Settles the caller's promise. */
  readonly resolve: (turn: AppendedTurn) => void;
  /** Settles the caller's promise. */
  readonly reject: (error: unknown) => void;
}

/** The slow part of an append (chunks written, fs root looked up), done before it is planned. */
export interface PreparedAppend {
  /** The payload as the record stores it. */
  readonly bytes: StoredBytes;
  /** True when `req.fsRootHash` names no stored blob. */
  readonly fsRootMissing: boolean;
}

/**
 * What an append needs before it is planned: a {@link PreparedAppend}, or,
 * in the common case (an inline payload, no fs root), the turn's row built
 * at the call with the payload inline (turn_value.ts `encodeInlineTurnRow`;
 * its id and parent are set when it is planned). A bare row saves an object
 * per append.
 */
export type Prepared = PreparedAppend | Uint8Array;

interface Queued extends PendingAppend {
  readonly seq: number;
  /** Rounds this append lost to another writer (not rounds it waited for room in). */
  attempts: number;
  ready?: Prepared;
  /**
   * Set when the append is planned in a round (again on a re-plan): its turn,
   * its id as a key part, and whether its idempotency key went into a key
   * block. Kept on the queue entry, so planning allocates no object per
   * append besides the turn it resolves with.
   */
  turn?: AppendedTurn;
  id?: bigint;
  inBlock?: boolean;
}

/** A planned round whose commit was sent and is not yet settled. */
interface Sent {
  /** The commit's outcome, never rejected: a thrown error is kept as `error`. */
  readonly outcome: Promise<Outcome>;
  /** When it was sent (performance.now). */
  readonly started: number;
  /** Its estimated bytes (for quick_commits.ts). */
  readonly bytes: number;
  /** The appends it carries, resolved when it lands. */
  readonly planned: Queued[];
  /** Appends settled when it lands (stale parents, keys repeated in the round). */
  readonly afterCommit: { item: Queued; settle: () => void }[];
  /** Each context's share: its heads and runs as the commit leaves them. */
  readonly shares: ContextCommit[];
  /** The last key block written per context, and how many. */
  readonly lastBlocks: Map<bigint, { firstDepth: number; count: number }>;
  /** The token it deletes, which a commit sent after it checks is gone. */
  readonly token: Token | undefined;
}

/** A sent commit's result, or what it threw (its outcome is then unknown). */
interface Outcome {
  readonly result?: Deno.KvCommitResult | Deno.KvCommitError;
  readonly error?: unknown;
  /** When it settled (performance.now). */
  readonly at: number;
}

/** Conflicts an append may lose before it fails; waiting for room in a commit does not count. */
const MAX_ATTEMPTS = 10_000;

/** Batches concurrent appends into atomic commits. */
export class GroupCommitAppender {
  readonly #kv: Deno.Kv;
  readonly #history: History;
  readonly #ids: IdBlocks;
  readonly #observer?: CommitObserver;
  readonly #limits: KvLimits;
  /** Heads as of our last read or commit; a commit's check catches a stale one. */
  readonly #heads = new LruMap<bigint, HeadState>(4096);
  /** This handle's current run of ids per context, as of its last commit. */
  readonly #runs = new LruMap<bigint, Run>(4096);
  /**
   * The idempotency keys (→ turn id) this handle knows per context, and
   * whether it knows them all (then a round needs no read). Each of our
   * commits checks the slot above the head it planned from, and every
   * foreign write to a context's keys fills that slot, so while our commits
   * pass no foreign key can have appeared. Doubted on any failed or unknown
   * commit, a head read that differs or an evicted head; keys are read again
   * then (see key_index.ts).
   */
  readonly #keys: KeyIndex;
  /** Over KV Connect: commit latencies by size, to decide when a round is cut short. */
  readonly #quick: QuickCommits | undefined;
  /** Over KV Connect: the tokens that let commits overlap. */
  readonly #chain: CommitChain | undefined;
  /** Commits sent and not yet settled, oldest first. */
  readonly #inFlight: Sent[] = [];
  /** A commit in flight failed: send nothing more until all have settled. */
  #broken = false;
  #queue: Queued[] = [];
  #seq = 0;
  #running?: Promise<void>;

  /** Appends to `kv`, allocating turn ids from `ids`, in commits that keep to `limits`. */
  constructor(
    kv: Deno.Kv,
    history: History,
    ids: IdBlocks,
    observer?: CommitObserver,
    limits: KvLimits = KV_CONNECT_LIMITS,
  ) {
    this.#kv = kv;
    this.#history = history;
    this.#ids = ids;
    this.#observer = observer;
    this.#limits = limits;
    this.#keys = new KeyIndex(kv);
    const depth = limits.commitsInFlight ?? 1;
    this.#quick = limits.quickCommitBytes
      ? new QuickCommits(limits.quickCommitBytes, undefined, depth)
      : undefined;
    this.#chain = depth > 1 ? new CommitChain(kv, depth, limits, observer) : undefined;
  }

  /** Records a head we just read, so the next append needs no read. */
  noteHead(ctx: bigint, state: HeadState): void {
    const cached = this.#heads.get(ctx);
    // While a commit of ours to the context is in flight, the cached head is the one it will
    // write, and a read shows the one before it (or the same): kept, or the next round, planned
    // on the read, would fail behind it, and with it every commit sent after it. A deeper head
    // is another writer's, and taken; one beside ours makes our commit fail, which forgets it.
    if (cached && state.depth <= cached.depth && this.#writing(ctx)) return;
    // A head other than the one we last wrote means another writer was here.
    if (!cached || cached.head !== state.head || cached.depth !== state.depth) {
      this.#keys.doubt(ctx);
    }
    this.#heads.set(ctx, state);
  }

  /** Records a context this handle just created: its head, and that it has no keys yet. */
  noteCreated(ctx: bigint, state: HeadState): void {
    this.#heads.set(ctx, state);
    this.#keys.created(ctx);
  }

  /** True while a commit of this handle that appends to `ctx` is in flight. */
  #writing(ctx: bigint): boolean {
    for (const sent of this.#inFlight) {
      for (const share of sent.shares) if (share.ctx === ctx) return true;
    }
    return false;
  }

  /** Forgets what this handle knew of a context; the next round reads it. */
  #forget(ctx: bigint): void {
    this.#heads.delete(ctx);
    this.#runs.delete(ctx);
    this.#keys.doubt(ctx);
  }

  /**
   * Queues an append (the fields of {@link PendingAppend}); `resolve` or
   * `reject` is called when its round commits. Taken as arguments, so that
   * the queue entry is the one object an append allocates here.
   */
  submit(
    req: ValidAppend,
    ctx: bigint,
    contentHash: string,
    prepared: Prepared | Promise<PreparedAppend>,
    resolve: (turn: AppendedTurn) => void,
    reject: (error: unknown) => void,
  ): void {
    const ready = prepared instanceof Promise ? undefined : prepared;
    this.#queue.push({
      req,
      ctx,
      contentHash,
      prepared,
      resolve,
      reject,
      seq: this.#seq++,
      attempts: 0,
      ready,
    });
    this.#kick();
  }

  /** Resolves when nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Waits until nothing is queued or in flight, then removes the chain's unused tokens. */
  async close(): Promise<void> {
    await this.idle();
    await this.#chain?.close();
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = this.#drain();
  }

  async #drain(): Promise<void> {
    // Let appends issued in the same tick join the first round.
    await Promise.resolve();
    try {
      for (;;) {
        if (this.#inFlight.length > 0 && !this.#mayOverlap()) {
          await this.#settleOldest();
          continue;
        }
        if (this.#queue.length === 0) break;
        await this.#round();
      }
    } finally {
      this.#running = undefined;
      if (this.#queue.length > 0) this.#kick();
    }
  }

  async #round(): Promise<void> {
    let taken = this.#queue;
    this.#queue = [];
    // Wait for appends still writing chunks: later appends must not overtake them.
    if (taken.some((item) => !item.ready)) {
      const failed = new Set<Queued>();
      await Promise.all(taken.map(async (item) => {
        if (item.ready) return;
        try {
          item.ready = await item.prepared;
        } catch (error) {
          failed.add(item);
          item.reject(error);
        }
      }));
      if (failed.size > 0) taken = taken.filter((item) => !failed.has(item));
    }
    const groups = new Map<bigint, Queued[]>();
    const later: Queued[] = [];
    // A round sent while others are in flight spends one check on the chain (commit_chain.ts).
    const maxContexts = this.#limits.checks - (this.#inFlight.length > 0 ? 1 : 0);
    for (const item of taken) {
      const group = groups.get(item.ctx);
      if (group) group.push(item);
      else if (groups.size < maxContexts) groups.set(item.ctx, [item]);
      else later.push(item);
    }
    try {
      later.push(...await this.#commitGroups(groups));
    } catch (error) {
      // Something failed outside the planned flow (a KV error): fail the round.
      const failure = error instanceof TurnStoreError
        ? error
        : new BackendError(`kv append failed: ${(error as Error)?.message}`, { cause: error });
      for (const group of groups.values()) for (const item of group) item.reject(failure);
      for (const ctx of groups.keys()) this.#forget(ctx);
    }
    this.#requeue(later);
  }

  /** Puts appends back in the queue, in call order among everything queued. */
  #requeue(items: Queued[]): void {
    if (items.length === 0) return;
    const retry: Queued[] = [];
    for (const item of items) {
      if (item.attempts > MAX_ATTEMPTS) {
        item.reject(new BackendError(`append to context ${item.req.contextId} kept conflicting`));
      } else retry.push(item);
    }
    retry.sort(bySeq);
    // Appends of failed commits come back after later ones were requeued: merge, not prepend.
    this.#queue = mergeBySeq(retry, this.#queue);
  }

  /**
   * True when the next round may be sent while commits are in flight: the
   * newest one deletes a token to check and is not a stalling size, fewer
   * than the limit are in flight, none has failed, and planning the queue
   * needs no reads (every context's head known, no idempotency keys, no
   * explicit parent but the head).
   */
  #mayOverlap(): boolean {
    const last = this.#inFlight.at(-1);
    if (
      !this.#chain || this.#broken || last?.token === undefined ||
      this.#inFlight.length >= this.#chain.depth || this.#queue.length === 0
    ) return false;
    // Not behind a commit that stalls (quick_commits.ts): sent on the same connection, a quick
    // one would wait as long, and its latency would make quick commits look slow.
    if (this.#quick && last.bytes > this.#quick.quickBytes) return false;
    // Runs of one context are the common queue: its head is looked up once per run.
    let seen: Set<bigint> | undefined;
    let runCtx: bigint | undefined;
    let head: HeadState | undefined;
    let first = false;
    for (const { req, ctx } of this.#queue) {
      if (req.idempotencyKey !== undefined) return false;
      if (ctx !== runCtx) {
        head = this.#heads.peek(ctx); // a peek: planning marks the heads it uses
        if (!head) return false;
        runCtx = ctx;
        first = !seen?.has(ctx);
        (seen ??= new Set()).add(ctx);
      } else first = false;
      // Only as the context's first queued append can it name the head without a read.
      if (req.parentTurnId !== undefined && (!first || BigInt(req.parentTurnId) !== head!.head)) {
        return false;
      }
    }
    return true;
  }

  /** Waits for the oldest commit in flight and settles its appends. */
  async #settleOldest(): Promise<void> {
    const sent = this.#inFlight[0];
    const outcome = await sent.outcome;
    this.#inFlight.shift();
    if (this.#inFlight.length === 0) this.#broken = false;
    const { result, error } = outcome;
    if (result) this.#quick?.record(sent.bytes, outcome.at - sent.started);
    // A chained commit that failed or threw may still have landed: Deno's client sends a commit
    // again when its answer was lost, and the resend fails the checks the first attempt passed.
    // Its token says which: only this commit deletes it (commit_chain.ts).
    let landed = result?.ok === true;
    if (!landed && sent.token) {
      const there = await this.#chain!.isThere(sent.token);
      if (there === false) landed = true; // gone: it landed, and so did what it carried
      else if (there === true && result) this.#chain!.giveBack(sent.token); // surely not landed
      // A commit that threw may yet land, and a failed read says nothing: the token is dropped.
    }
    if (!landed && !result) {
      // Unknown outcome (the connection failed, say): tell the appends, forget the heads.
      const failure = error instanceof TurnStoreError
        ? error
        : new BackendError(`kv append failed: ${(error as Error)?.message}`, { cause: error });
      for (const item of sent.planned) item.reject(failure);
      for (const { item } of sent.afterCommit) item.reject(failure);
      for (const share of sent.shares) this.#forget(share.ctx);
      if (this.#inFlight.length > 0) this.#broken = true;
      return;
    }
    if (!landed) {
      // Another writer moved a head, or the commit before this one failed: forget what we
      // knew and plan again.
      for (const share of sent.shares) this.#forget(share.ctx);
      for (const item of sent.planned) item.attempts++;
      for (const { item } of sent.afterCommit) item.attempts++;
      this.#requeue([...sent.planned, ...sent.afterCommit.map((a) => a.item)]);
      if (this.#inFlight.length > 0) this.#broken = true;
      return;
    }
    if (this.#inFlight.length === 0) {
      // What this commit wrote is the newest state (a read in between may have noted an older one).
      for (const share of sent.shares) {
        this.#heads.set(share.ctx, { head: share.head, depth: share.depth });
        this.#runs.set(share.ctx, share.run);
      }
    }
    // What this handle wrote is known from now on: block keys for good, row keys while complete.
    let knownCtx: bigint | undefined;
    let known: ContextKeys | undefined;
    for (const item of sent.planned) {
      const key = item.req.idempotencyKey;
      if (key === undefined) continue;
      if (item.ctx !== knownCtx) known = this.#keys.get(knownCtx = item.ctx); // one lookup per context
      if (!known) continue;
      if (item.inBlock) known.blockKeys.set(key, item.id!);
      else known.addRow(key, item.id!);
    }
    for (const [ctx, { firstDepth, count }] of sent.lastBlocks) {
      const keys = this.#keys.get(ctx);
      if (keys) keys.lastBlock = Math.max(keys.lastBlock, firstDepth), keys.blocks += count;
    }
    for (const item of sent.planned) item.resolve(item.turn!);
    for (const { settle } of sent.afterCommit) settle();
  }

  /**
   * Plans one round and sends its commit (settled later, #settleOldest);
   * returns the appends to try again later.
   */
  async #commitGroups(groups: Map<bigint, Queued[]>): Promise<Queued[]> {
    // The common case needs no read at all: every head is cached, no keys.
    const states = this.#cachedStates(groups) ?? await this.#states([...groups.keys()]);
    const existingKeys = hasKeys(groups)
      ? await this.#existingKeys(groups, states)
      : new Map<bigint, FoundKeys>();
    const bytes = this.#quick ? roundBytes(groups) : 0;
    const cap = this.#quick?.capFor(bytes);
    const op = new BudgetedAtomic(this.#kv, this.#limits, cap);
    // The chain's part, counted first so that a capped commit's size includes it: a check that
    // the commit in flight before this one deleted its token, and this one's own token, taken
    // when the round is cut into quick commits (the next one can then overlap this one).
    const previous = this.#inFlight.at(-1)?.token;
    const taken = cap !== undefined && bytes > cap ? this.#chain?.take() : undefined;
    if (previous) op.reserveOverhead(0, TOKEN_KEY_BYTES, TOKEN_KEY_BYTES);
    if (taken) op.reserveOverhead(1, TOKEN_KEY_BYTES, TOKEN_KEY_BYTES);
    const planned: Queued[] = [];
    const afterCommit: { item: Queued; settle: () => void }[] = [];
    const retry: Queued[] = [];
    const shares: ContextCommit[] = [];
    const lastBlocks = new Map<bigint, { firstDepth: number; count: number }>();

    for (const [ctx, items] of groups) {
      const state = states.get(ctx);
      if (!state) {
        for (const item of items) item.reject(new NotFoundError("context", item.req.contextId));
        continue;
      }
      const found = existingKeys.get(ctx);
      // Keys go into this commit's key blocks of the context while the context has
      // fewer than KEY_BLOCK_CAP keys and KEY_BLOCKS_PER_CONTEXT blocks; later ones get a row each.
      const blocks = found
        ? new ContextKeyBlocks(
          KEY_BLOCK_CAP - found.known.blockKeys.size,
          KEY_BLOCKS_PER_CONTEXT - found.known.blocks,
        )
        : new ContextKeyBlocks(0, 0);
      // This handle's run on the context: a turn that continues it needs no run row.
      const share = new ContextCommit(ctx, state, this.#runs.get(ctx), blocks);
      const pendingKeys = new Map<string, Queued>();
      // This context's planned appends are planned[firstPlanned..].
      const firstPlanned = planned.length;
      let full = false;
      for (const item of items) {
        if (full) {
          retry.push(item);
          continue;
        }
        const { req } = item;
        const key = req.idempotencyKey;
        if (key !== undefined) {
          const sibling = pendingKeys.get(key);
          if (sibling) {
            afterCommit.push({
              item,
              settle: () => {
                try {
                  item.resolve(
                    replayIdempotent(
                      req,
                      item.contentHash,
                      sibling.turn!,
                      sibling.req.fsRootHash,
                    ),
                  );
                } catch (error) {
                  item.reject(error);
                }
              },
            });
            continue;
          }
          const prior = findKey(found, key);
          if (prior !== undefined) {
            await this.#replayStored(item, prior);
            continue;
          }
        }
        if (req.parentTurnId !== undefined && BigInt(req.parentTurnId) !== share.head) {
          const parent = BigInt(req.parentTurnId);
          if (parent === state.head || isPlanned(planned, firstPlanned, parent)) {
            const headNow = share.headId;
            afterCommit.push({
              item,
              settle: () => item.reject(staleParent(req.contextId, req.parentTurnId!, headNow)),
            });
          } else if (await this.#rejectForeignParent(item)) {
            continue;
          } else {
            item.attempts++;
            retry.push(item); // the parent is the real head: our view was stale
            full = true; // keep the order of this context's appends
          }
          continue;
        }
        if (!(item.ready instanceof Uint8Array) && item.ready!.fsRootMissing) {
          item.reject(
            new NotFoundError(
              "blob",
              req.fsRootHash!,
              `fs root for a turn of context ${req.contextId}`,
            ),
          );
          continue;
        }
        const parentId = share.headId;
        const id = this.#ids.tryNext(share.head) ?? await this.#ids.next(share.head);
        const body = bodyOf(item.ready!);
        const encoded = this.#row(item, id, share.head, body !== undefined);
        const added = share.add(op, id, encoded, body, key, req.fsRootHash);
        // A full commit ends this context's share of the round (call order is kept).
        if (added === "full") {
          full = true;
          retry.push(item);
          continue;
        }
        const turn: AppendedTurn = {
          turnId: share.headId,
          parentTurnId: parentId,
          depth: share.depth,
          typeId: req.typeId,
          typeVersion: req.typeVersion,
          payload: req.payload,
          contentHash: item.contentHash,
          contextId: req.contextId,
          deduplicated: false,
        };
        item.turn = turn;
        item.id = id;
        item.inBlock = added === "block";
        planned.push(item);
        if (key !== undefined) pendingKeys.set(key, item);
      }
      if (share.moved) shares.push(share);
      const lastBlock = share.seal(op);
      if (lastBlock) lastBlocks.set(ctx, lastBlock);
    }

    if (planned.length === 0) {
      // Nothing to commit (a round that overlaps others always plans its first append).
      if (taken) this.#chain!.giveBack(taken);
      for (const { settle } of afterCommit) settle();
      return retry;
    }
    // The compare-and-set of each context: the slot just above the head we
    // planned from must still be empty. Turns are never removed and a writer
    // fills slot d + 1 only after seeing slot d, so an empty slot proves that
    // nothing was appended (and no idempotency key written) in between.
    for (const share of shares) op.checkReserved(turnKey(share.ctx, share.base.depth + 1), null);
    if (previous) op.checkReserved(tokenKey(previous.id), null);
    // A commit that grew past the quick size anyway (its first append is larger) stalls, and
    // nothing is sent behind it: it keeps no token.
    const sentBytes = op.bytes;
    const token = taken && sentBytes <= this.#quick!.quickBytes ? taken : undefined;
    if (taken && !token) this.#chain!.giveBack(taken);
    if (token) op.deleteReserved(tokenKey(token.id));
    const started = performance.now();
    const outcome = op.commit(this.#observer).then(
      (result): Outcome => ({ result, at: performance.now() }),
      (error): Outcome => ({ error, at: performance.now() }),
    );
    // Later rounds plan on the heads this commit will write; a failure forgets them.
    for (const share of shares) {
      this.#heads.set(share.ctx, { head: share.head, depth: share.depth });
      this.#runs.set(share.ctx, share.run);
    }
    this.#inFlight.push({
      outcome,
      started,
      bytes: sentBytes,
      planned,
      afterCommit,
      shares,
      lastBlocks,
      token,
    });
    return retry;
  }

  /** The stored row of a planned turn; without its payload when that goes into a body row. */
  #row(item: Queued, id: bigint, parent: bigint, bodyRow: boolean): Uint8Array {
    const ready = item.ready!;
    if (ready instanceof Uint8Array) {
      setTurnRowIds(ready, id, parent);
      return ready;
    }
    const { bytes } = ready;
    const { req } = item;
    const value: TurnValue = {
      id,
      parent,
      type: req.typeId,
      version: req.typeVersion,
      hash: item.contentHash,
      size: bytes.size,
      inline: bodyRow ? undefined : bytes.inline,
      chunks: bytes.chunks,
      bodyRow,
    };
    return encodeTurnValue(value);
  }

  /** Heads of every context of the round when all are cached. */
  #cachedStates(groups: Map<bigint, Queued[]>): Map<bigint, HeadState> | undefined {
    const out = new Map<bigint, HeadState>();
    for (const ctx of groups.keys()) {
      const cached = this.#heads.get(ctx);
      if (!cached) return undefined;
      out.set(ctx, cached);
    }
    return out;
  }

  /** Heads of `ctxs`, from the cache when known, otherwise read; absent for unknown contexts. */
  async #states(ctxs: bigint[]): Promise<Map<bigint, HeadState>> {
    const out = new Map<bigint, HeadState>();
    const missing: bigint[] = [];
    for (const ctx of ctxs) {
      const cached = this.#heads.get(ctx);
      if (cached) out.set(ctx, cached);
      else missing.push(ctx);
    }
    await Promise.all(missing.map(async (ctx) => {
      this.#keys.doubt(ctx); // its cached head was evicted: no longer sure
      const info = await this.#history.context(ctx);
      if (!info) return;
      const state = await this.#history.head(info);
      this.#heads.set(ctx, state);
      out.set(ctx, state);
    }));
    return out;
  }

  /**
   * The idempotency keys of this round's contexts, as far as they may name
   * a turn already (key_index.ts). Read after the heads were observed, so a
   * passing head check proves the absent ones are still absent at commit. A
   * context whose keys this handle knows whole needs no read.
   */
  async #existingKeys(
    groups: Map<bigint, Queued[]>,
    states: Map<bigint, HeadState>,
  ): Promise<Map<bigint, FoundKeys>> {
    const found = new Map<bigint, FoundKeys>();
    const reads: Promise<void>[] = [];
    for (const [ctx, items] of groups) {
      if (!states.has(ctx)) continue;
      const known = this.#keys.get(ctx);
      if (known?.complete) {
        found.set(ctx, { known });
        continue;
      }
      const wanted: string[] = [];
      for (const { req } of items) {
        if (req.idempotencyKey !== undefined) wanted.push(req.idempotencyKey);
      }
      if (wanted.length === 0) continue;
      reads.push(this.#keys.read(ctx, wanted).then((keys) => void found.set(ctx, keys)));
    }
    await Promise.all(reads);
    return found;
  }

  /** Settles an append whose key already names a stored turn. */
  async #replayStored(item: Queued, turnId: bigint): Promise<void> {
    const located = await this.#history.locate(turnId);
    if (!located) {
      item.reject(new BackendError(`idempotency key names turn ${turnId}, which is missing`));
      return;
    }
    const [stored, fsRoot] = await Promise.all([
      this.#history.toStored(located),
      this.#history.ownFsRoot(located),
    ]);
    try {
      item.resolve(replayIdempotent(item.req, item.contentHash, stored, fsRoot));
    } catch (error) {
      item.reject(error);
    }
  }

  /**
   * Rejects an append whose explicit parent is not the head, judged from a
   * fresh read. Returns false when the parent IS the fresh head (our cached
   * head was stale), so the append should be planned again.
   */
  async #rejectForeignParent(item: Queued): Promise<boolean> {
    const { req, ctx } = item;
    const info = await this.#history.context(ctx);
    if (!info) {
      item.reject(new NotFoundError("context", req.contextId));
      return true;
    }
    const fresh = await this.#history.head(info);
    const parentId = req.parentTurnId!;
    if (fresh.head === BigInt(parentId)) {
      this.noteHead(ctx, fresh);
      return false;
    }
    const headId = String(fresh.head);
    if (parentId === "0") {
      item.reject(staleParent(req.contextId, parentId, headId));
      return true;
    }
    const loc = await this.#history.locate(BigInt(parentId));
    if (!loc) {
      item.reject(new NotFoundError("turn", parentId));
      return true;
    }
    item.reject(
      await this.#history.inHistory(info, loc)
        ? staleParent(req.contextId, parentId, headId)
        : foreignParent(req.contextId, parentId),
    );
    return true;
  }
}

/**
 * The payload a turn stores in its body row (`["body", id]`, keys.ts): an
 * inline payload above {@link BODY_ROW_ABOVE}; undefined when the payload
 * stays in the turn row (a small one: its row was built at the call) or is
 * chunked.
 */
function bodyOf(ready: Prepared): Uint8Array | undefined {
  if (ready instanceof Uint8Array) return undefined;
  const inline = ready.bytes.inline;
  return inline !== undefined && inline.length > BODY_ROW_ABOVE ? inline : undefined;
}

/** True when `id` was planned at planned[from..]. */
function isPlanned(planned: readonly Queued[], from: number, id: bigint): boolean {
  for (let i = from; i < planned.length; i++) if (planned[i].id === id) return true;
  return false;
}

function bySeq(a: Queued, b: Queued): number {
  return a.seq - b.seq;
}

/** The appends of two lists each in call order, in call order. */
function mergeBySeq(a: Queued[], b: Queued[]): Queued[] {
  if (b.length === 0 || a.length === 0) return a.length === 0 ? b : a;
  if (a[a.length - 1].seq < b[0].seq) return a.concat(b); // the usual case: retries come first
  const out: Queued[] = [];
  let i = 0, j = 0;
  while (i < a.length && j < b.length) out.push(a[i].seq < b[j].seq ? a[i++] : b[j++]);
  while (i < a.length) out.push(a[i++]);
  while (j < b.length) out.push(b[j++]);
  return out;
}

function hasKeys(groups: Map<bigint, Queued[]>): boolean {
  for (const items of groups.values()) {
    for (const item of items) if (item.req.idempotencyKey !== undefined) return true;
  }
  return false;
}

/** Bytes a turn row and its check add beside the payload (an estimate, for quick_commits.ts). */
const TURN_OVERHEAD_BYTES = 96;

/** About how many estimated bytes a round's appends would commit (payloads and per-turn rows). */
function roundBytes(groups: Map<bigint, Queued[]>): number {
  let bytes = 0;
  for (const items of groups.values()) {
    for (const item of items) bytes += item.req.payload.length + TURN_OVERHEAD_BYTES;
  }
  return bytes;
}
