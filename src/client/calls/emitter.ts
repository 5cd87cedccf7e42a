/**
 * A typed wrapper over `node:events` for call objects. (The client's own emitter lives in
 * `../events.ts`, which names the call types; a second small one here keeps the import graph
 * acyclic.)
 * @module
 */
import { EventEmitter } from 'node:events';

/** An `EventEmitter` whose `on`/`once`/`off`/`emit` are typed by `E` (event name → argument). */
export class Emitter<E extends { [K in keyof E]: unknown }> {
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
   * Emits `event`; a listener that throws is reported through `onListenerError` instead of
   * unwinding into the protocol code that emitted. An `error` without listener is dropped.
   */
  protected emit<K extends keyof E & string>(event: K, arg: E[K]): boolean {
    if (event === 'error' && this.ee.listenerCount('error') === 0) return false;
    try {
      return this.ee.emit(event, arg);
    } catch (e) {
      this.onListenerError(event, e);
      return true;
    }
  }

  /** Called when a listener threw. Default: ignored. */
  protected onListenerError(_event: string, _error: unknown): void {
    // overridden by classes that log
  }
}
