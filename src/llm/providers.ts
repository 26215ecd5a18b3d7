import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'yaml';
import * as z from '../core/zod.js';
import { AgenceError } from '../core/errors.js';
import { firstIssue } from '../core/schemas.js';
import { configDir } from '../shard/registry.js';
import { createAnthropic, createOpenAI, createOpenAICompatible, defaultSettingsMiddleware, type LanguageModel, wrapLanguageModel } from './sdk.js';

/**
 * Where the models are: `~/.config/agence/providers.yaml` (per user, never versioned) and the usual
 * environment variables, which win. Keys go only into the SDK client's headers: never into a file
 * agence writes, a log line, an error message or a URL.
 */

const Endpoint = z.deferred(() => z.strictObject({ base_url: z.string(), api_key: z.optional(z.string()), api_key_env: z.optional(z.string()) }));
const Keyed = z.deferred(() => z.strictObject({ base_url: z.optional(z.string()), api_key: z.optional(z.string()) }));

export const ProvidersFileSchema = z.deferred(() => z.strictObject({
  anthropic: z.optional(Keyed),
  openai: z.optional(
    z.strictObject({
      base_url: z.optional(z.string()),
      api_key: z.optional(z.string()),
      /** Responses (OpenAI's current API, the default) or Chat Completions (for proxies that only speak that). */
      api: z.optional(z.enum(['responses', 'chat'])),
    }),
  ),
  ollama: z.optional(z.strictObject({ base_url: z.optional(z.string()) })),
  /** OpenAI-compatible endpoints by name (LM Studio, vLLM, Groq, OpenRouter, Mistral, ...). */
  endpoints: z.optional(z.record(z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)), Endpoint)),
  timeout_seconds: z.optional(z.number().check(z.positive())),
  max_retries: z.optional(z.int().check(z.gte(0), z.lte(10))),
}));
export type ProvidersFile = z.infer<typeof ProvidersFileSchema>;

export interface ProviderTarget {
  name: string;
  kind: 'anthropic' | 'openai' | 'openai-compatible';
  /** OpenAI only: which of its APIs (`openai.api` in providers.yaml). */
  api?: 'responses' | 'chat';
  baseURL: string;
  apiKey: string | undefined;
  /** On this machine (DESIGN §5: secret material may go only to a local provider). */
  local: boolean;
}

export interface CallSettings {
  timeoutMs: number;
  maxRetries: number;
}

export function providersFile(env: NodeJS.ProcessEnv): string {
  return join(configDir(env), 'providers.yaml');
}

export function readProviders(env: NodeJS.ProcessEnv): ProvidersFile {
  const file = providersFile(env);
  if (!existsSync(file)) return {};
  let value: unknown;
  try {
    value = yaml.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AgenceError('usage', `${file} is not valid YAML (${(error as Error).message.split('\n')[0]})`, { file, fix: 'fix it (see "Providers" in the README)' });
  }
  const parsed = ProvidersFileSchema.safeParse(value ?? {});
  if (!parsed.success) throw new AgenceError('usage', `${file}: ${firstIssue(parsed.error)}`, { file, fix: 'fix it (see "Providers" in the README)' });
  return parsed.data;
}

export function callSettings(file: ProvidersFile, env: NodeJS.ProcessEnv): CallSettings {
  const fromEnv = Number(env.AGENCE_LLM_TIMEOUT);
  const seconds = env.AGENCE_LLM_TIMEOUT && fromEnv > 0 ? fromEnv : (file.timeout_seconds ?? 120);
  const retries = Number(env.AGENCE_LLM_RETRIES);
  return { timeoutMs: Math.round(seconds * 1000), maxRetries: env.AGENCE_LLM_RETRIES && Number.isInteger(retries) && retries >= 0 ? Math.min(retries, 10) : (file.max_retries ?? 3) };
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** A base URL from settings: http(s), and never with credentials in it. */
function baseUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new AgenceError('usage', `${what} "${value}" is not a URL`, { fix: 'write it like http://127.0.0.1:11434 or https://api.example.com/v1' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AgenceError('usage', `${what} must be an http(s) URL`, { fix: 'write it like https://api.example.com/v1' });
  if (url.username || url.password || url.search) {
    throw new AgenceError('usage', `${what} carries credentials or a query`, { fix: 'put keys in the environment or providers.yaml (api_key), never in a URL' });
  }
  return url;
}

const trimSlash = (url: URL) => url.href.replace(/\/+$/, '');

function missingKey(provider: string, variable: string, env: NodeJS.ProcessEnv): AgenceError {
  return new AgenceError('usage', `no ${provider} API key is configured`, {
    fix: `set ${variable} (export ${variable}=...), or ${provider.toLowerCase()}.api_key in ${providersFile(env)}; or route to another agent (\`agence ^agents\`)`,
  });
}

/** Ask an Ollama server whether it is there (1.5 s): used only for agents whose provider is ollama. */
async function ollamaAnswers(host: string): Promise<boolean> {
  try {
    const response = await fetch(`${host}/api/version`, { signal: AbortSignal.timeout(1500) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The provider named by a model alias, with its endpoint and key, or what to set to have it. */
export async function resolveProvider(name: string, file: ProvidersFile, env: NodeJS.ProcessEnv): Promise<ProviderTarget> {
  switch (name) {
    case 'anthropic': {
      const apiKey = env.ANTHROPIC_API_KEY || file.anthropic?.api_key;
      if (!apiKey) throw missingKey('Anthropic', 'ANTHROPIC_API_KEY', env);
      const url = baseUrl(env.ANTHROPIC_BASE_URL || file.anthropic?.base_url || 'https://api.anthropic.com/v1', 'the Anthropic base URL');
      return { name, kind: 'anthropic', baseURL: trimSlash(url), apiKey, local: false };
    }
    case 'openai': {
      const apiKey = env.OPENAI_API_KEY || file.openai?.api_key;
      if (!apiKey) throw missingKey('OpenAI', 'OPENAI_API_KEY', env);
      const url = baseUrl(env.OPENAI_BASE_URL || file.openai?.base_url || 'https://api.openai.com/v1', 'the OpenAI base URL');
      return { name, kind: 'openai', api: file.openai?.api ?? 'responses', baseURL: trimSlash(url), apiKey, local: false };
    }
    case 'ollama': {
      const url = baseUrl(env.OLLAMA_HOST || file.ollama?.base_url || 'http://127.0.0.1:11434', 'OLLAMA_HOST');
      const host = `${url.protocol}//${url.host}`;
      if (!(await ollamaAnswers(host))) {
        throw new AgenceError('usage', `no Ollama server answers at ${host}`, {
          fix: 'start it (`ollama serve`, and `ollama pull <model>`), or set OLLAMA_HOST to where it runs',
        });
      }
      return { name, kind: 'openai-compatible', baseURL: `${host}/v1`, apiKey: undefined, local: LOOPBACK.test(url.hostname) };
    }
    default: {
      const endpoint = file.endpoints?.[name];
      if (!endpoint) {
        throw new AgenceError('usage', `provider "${name}" is not configured`, {
          fix: `anthropic, openai and ollama are built in; declare an OpenAI-compatible endpoint under endpoints.${name} (base_url, api_key_env) in ${providersFile(env)}`,
        });
      }
      const url = baseUrl(endpoint.base_url, `endpoints.${name}.base_url`);
      const apiKey = (endpoint.api_key_env ? env[endpoint.api_key_env] : undefined) || endpoint.api_key;
      if (endpoint.api_key_env && !apiKey) throw missingKey(name, endpoint.api_key_env, env);
      return { name, kind: 'openai-compatible', baseURL: trimSlash(url), apiKey, local: LOOPBACK.test(url.hostname) };
    }
  }
}

/** The SDK model object for a provider's model id. */
export async function languageModel(target: ProviderTarget, id: string): Promise<LanguageModel> {
  switch (target.kind) {
    case 'anthropic':
      return createAnthropic({ baseURL: target.baseURL, apiKey: target.apiKey as string })(id);
    case 'openai': {
      const openai = createOpenAI({ baseURL: target.baseURL, apiKey: target.apiKey as string });
      if (target.api === 'chat') return openai.chat(id);
      // The Responses API keeps responses on OpenAI's side unless told not to: agence's context
      // (lessons, session briefs) is not to be stored there, so every call says `store: false`.
      return wrapLanguageModel({ model: openai.responses(id), middleware: defaultSettingsMiddleware({ settings: { providerOptions: { openai: { store: false } } } }) });
    }
    case 'openai-compatible':
      return createOpenAICompatible({ name: target.name, baseURL: target.baseURL, ...(target.apiKey ? { apiKey: target.apiKey } : {}), includeUsage: true, supportsStructuredOutputs: true })(id);
  }
}
