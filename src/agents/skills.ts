import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { renderSkill, type Skill } from '../core/agents.js';
import { AgenceError } from '../core/errors.js';
import { execGit, gitMessage } from '../git/git.js';
import { loadSkill } from './agentRegistry.js';
import { type ChatContext, type ChatResult, chat } from './chat.js';

/**
 * Skills: prompt workflows of the effective `codex/skills/*.md`. A skill gathers its context (a
 * read-only git command's output, files), fills its prompt with the arguments, and asks its agent
 * through chat, so the call is checked, logged and kept in the session like any other.
 */

const MAX_FILE_BYTES = 256 * 1024;

export function insideRepo(root: string, cwd: string, path: string): string {
  const full = resolve(cwd, path);
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    throw new AgenceError('not_found', `no file ${path}`, { fix: 'name a file of this repository' });
  }
  const rel = relative(realpathSync(root), real);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new AgenceError('usage', `${path} is outside this repository`, { fix: 'skills read only files of the repository they run in' });
  // HERMETIC (keys, private notes) and NEXUS (logs, sessions) never go into a prompt this way.
  if (/^\.agence\/(hermetic|nexus)(\/|$)/i.test(rel)) throw new AgenceError('refused', `${path} is in .agence/${rel.split('/')[1]}/, which is never read into a prompt`, { fix: 'name a file of the repository itself' });
  const size = statSync(real).size;
  if (size > MAX_FILE_BYTES) throw new AgenceError('usage', `${path} is ${Math.ceil(size / 1024)} KB; a skill reads files up to ${MAX_FILE_BYTES / 1024} KB`, { fix: 'name a smaller file or a part of it' });
  return real;
}

async function gatherContext(skill: Skill, args: readonly string[], cwd: string, root: string): Promise<string[]> {
  const blocks: string[] = [];
  for (const source of skill.context) {
    if ('git' in source) {
      const argv = source.git.trim().split(/\s+/);
      const result = await execGit(['--no-pager', ...argv], { cwd });
      if (result.code !== 0) throw new AgenceError('git', `git ${source.git} (context of ^${skill.name}) failed: ${gitMessage(result.stderr)}`);
      const out = result.stdout.toString('utf8').trimEnd(); // keep leading spaces: status --short needs them
      blocks.push(`### git ${source.git}\n\`\`\`\n${out || '(no output)'}\n\`\`\``);
      continue;
    }
    const files = source.files === 'args' ? args : [source.files];
    for (const file of files) {
      const real = insideRepo(root, cwd, file);
      blocks.push(`### ${relative(root, real)}\n\`\`\`\n${readFileSync(real, 'utf8')}\n\`\`\``);
    }
  }
  return blocks;
}

export interface SkillInput {
  name: string;
  args: string[];
  ref: { agent: string; model: string | null } | null;
  fresh: boolean;
  overBudget: boolean;
  onText?: (delta: string) => void;
}

export async function runSkill(ctx: ChatContext, input: SkillInput): Promise<ChatResult & { skill: string }> {
  const paths = ctx.sessions.shard;
  const skill = loadSkill(paths, input.name);
  if (skill.kind === 'guide') {
    throw new AgenceError('usage', `${input.name} is a guide for agents, not a prompt workflow`, { fix: `read it with \`agence ^codex skills/${input.name}.md\`` });
  }
  const prompt = renderSkill(skill, input.args);
  const context = await gatherContext(skill, input.args, ctx.sessions.cwd, paths.root);
  const question = context.length > 0 ? `${prompt}\n\n## Context\n\n${context.join('\n\n')}` : prompt;
  const ref = input.ref ?? (skill.agent ? { agent: skill.agent, model: null } : null);
  const result = await chat(ctx, { question, ref, fresh: input.fresh, overBudget: input.overBudget, purpose: `skill:${skill.name}`, ...(input.onText ? { onText: input.onText } : {}) });
  return { ...result, skill: skill.name };
}
