/**
 * The Vercel AI SDK and its providers, as one module: `scripts/build.mjs` bundles this file alone
 * into `dist/vendor/ai.cjs`, required only by the commands that call a model, so the start-up of
 * every other command is untouched. Reach it only through `sdk()` of ./sdkLoader.ts (type imports
 * of this file are fine): the loader requires the bundle with a V8 code cache.
 */
export { createAnthropic } from '@ai-sdk/anthropic';
export { createOpenAI } from '@ai-sdk/openai';
export { createOpenAICompatible } from '@ai-sdk/openai-compatible';
export { APICallError, generateText, jsonSchema, NoObjectGeneratedError, Output, RetryError, stepCountIs, streamText, tool } from 'ai';
export type { LanguageModel, ModelMessage, ToolSet } from 'ai';

// The SDK prints its warnings with console.*, which would break `--json`'s one document on stdout.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
