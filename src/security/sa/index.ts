/**
 * Signalling security associations (SPEC SA-1 … SA-10; seed 000, seed 004 first
 * embodiment): the Noise handshake in REGISTER, the record layer with whole and partial
 * ranges, key generations with grace, setting documents and the capability header. Pure:
 * no I/O; time is injected.
 * @module
 */
export * from './association.js';
export * from './generation.js';
export * from './handshake.js';
export * from './message-protection.js';
export * from './range.js';
export * from './record.js';
export * from './replay-window.js';
export * from './sa-endpoint.js';
export * from './security-client.js';
export * from './setting-document.js';
