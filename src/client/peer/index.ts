/**
 * Peer-to-peer channels of the SDK (SPEC PEER-*): the TLS 1.3 data channel between two
 * devices (PEER-3).
 * @module
 */
export {
  connectDataChannel,
  DataChannelListener,
  DEFAULT_DATA_CHANNEL_TIMEOUT_MS,
  type DataChannel,
  type DataChannelListenerOptions,
  type DataChannelParams,
} from './data-channel.js';
export { DataChannelError, type DataChannelFailure } from './data-channel-error.js';
export { checkIdentity, createDataChannelIdentity, identityFingerprint, type CreateDataChannelIdentityOptions, type DataChannelIdentity } from './data-channel-identity.js';
export { expectedFingerprints, type DataChannelTrust, type RemoteFingerprint } from './peer-verification.js';
