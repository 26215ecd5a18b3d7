import { createRequire } from 'node:module';

/**
 * Node modules that cost start-up when imported at the top (node:crypto and node:child_process
 * each load the stream modules, ~2-7 ms), required by the code paths that use them. In the bundle
 * `require` exists; under the test runner (ESM) one is made.
 */
const load = (id: string): unknown => (typeof require === 'function' ? require(id) : createRequire(import.meta.filename)(id));

export const nodeCrypto = () => load('node:crypto') as typeof import('node:crypto');
export const childProcess = () => load('node:child_process') as typeof import('node:child_process');
