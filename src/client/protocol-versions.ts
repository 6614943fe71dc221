/**
 * Which versions of the browser protocol (docs/protocol.md) this SDK speaks.
 * A version is an integer that changes only for incompatible changes; within
 * one, the protocol grows by optional fields, new frames and new codes that
 * older clients ignore. The SDK logs in with the newest it speaks and refuses
 * a `welcome` for any other. Dropping a version is a major release of the SDK
 * package; adding one is a minor release.
 */

import { PROTOCOL_VERSION } from '../protocol/messages.js';

/** Protocol versions this SDK can log in with, oldest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/** The SDK package's version (packages/client/package.json; a test keeps them equal). */
export const SDK_VERSION = '0.1.0';
