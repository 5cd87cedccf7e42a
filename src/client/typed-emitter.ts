/**
 * A typed wrapper over `node:events`, shared by the client and its calls (kept apart from
 * `events.ts`, which names the call types, so the import graph stays acyclic).
 * @module
 */
import { EventEmitter } from 'node:events';

/** An `EventEmitter` whose `on`/`once`/`off`/`emit` are typed by `E` (event name → argument). */
export class TypedEmitter<E extends { [K in keyof E]: unknown }> {
  private readonly ee = new EventEmitter();

  on<K extends keyof E & string>(event: K, listener: (arg: E[K]) => void): this {
    this.ee.on(event, listener);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (arg: E[K]) => void): this {
    this.ee.once(event, listener);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (arg: E[K]) => void): this {
    this.ee.off(event, listener);
    return this;
  }

  /** Number of listeners of `event`. */
  listenerCount<K extends keyof E & string>(event: K): number {
    return this.ee.listenerCount(event);
  }

  /**
   * Emits `event`. As with `EventEmitter`, an `error` without a listener would throw; this
   * emitter drops it instead (the client never crashes its host for a background failure).
   */
  protected emit<K extends keyof E & string>(event: K, arg: E[K]): boolean {
    if (event === 'error' && this.ee.listenerCount('error') === 0) return false;
    return this.ee.emit(event, arg);
  }
}
