/**
 * The call objects' emitter: the client's {@link TypedEmitter} with listener errors contained —
 * a listener that throws is reported through `onListenerError` instead of unwinding into the
 * protocol code that emitted.
 * @module
 */
import { TypedEmitter } from '../typed-emitter.js';

/** A {@link TypedEmitter} that isolates listener errors. */
export class Emitter<E extends { [K in keyof E]: unknown }> extends TypedEmitter<E> {
  /** Emits `event`; a listener that throws goes to {@link onListenerError}. */
  protected override emit<K extends keyof E & string>(event: K, arg: E[K]): boolean {
    try {
      return super.emit(event, arg);
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
