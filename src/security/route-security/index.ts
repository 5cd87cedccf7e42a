/**
 * `Route-Security` entries: sign, verify, check a chain, report it to a device (SPEC POL-4).
 * @module
 */
export * from './route-security.js';
