/**
 * Node modules that cost start-up when imported at the top (node:crypto and node:child_process
 * each load the stream modules, ~2-7 ms), taken by the code paths that use them.
 * `process.getBuiltinModule` works alike in the CommonJS bundles, under the test runner (ESM)
 * and in ESM bundles, where a `require` would not.
 */
export const nodeCrypto = () => process.getBuiltinModule('node:crypto');
export const childProcess = () => process.getBuiltinModule('node:child_process');
