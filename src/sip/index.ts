/**
 * The `sip` layer: message model, parsers, serializer and header codecs (RFC 3261).
 * Pure: no I/O. Imports only `util` and `errors`.
 * @module
 */
export * from './header-names.js';
export * from './lexer.js';
export * from './limits.js';
export * from './message.js';
export * from './name-addr.js';
export * from './parser.js';
export * from './record-frame.js';
export * from './response-builder.js';
export * from './serializer.js';
export * from './status.js';
export * from './stream-framer.js';
export * from './uri.js';
export * from './validate.js';
export * from './via.js';
