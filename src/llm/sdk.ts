/**
 * The Vercel AI SDK and its providers, as one module: `scripts/build.mjs` bundles this file alone
 * into `dist/vendor/ai.cjs`, required only by the commands that call a model, so the start-up of
 * every other command is untouched. Import it statically, and only from modules the command table
 * loads lazily: the bundle requires it (with a V8 code cache) when such a module initialises.
 */
export { createAnthropic } from '@ai-sdk/anthropic';
export { createOpenAI } from '@ai-sdk/openai';
export { createOpenAICompatible } from '@ai-sdk/openai-compatible';
export { APICallError, defaultSettingsMiddleware, generateText, jsonSchema, NoObjectGeneratedError, Output, RetryError, stepCountIs, streamText, tool, wrapLanguageModel } from 'ai';
export type { LanguageModel, ModelMessage, ToolSet } from 'ai';

// The SDK prints its warnings with console.*, which would break `--json`'s one document on stdout.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
