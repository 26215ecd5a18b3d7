import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { type BlockState, type InstructionInput, renderInstructions, spliceBlock } from '../core/instructions.js';
import { canRead, type Label, splitFrontMatter } from '../core/knowledgeItem.js';
import { INSTRUCTION_TARGETS, type InstructionTarget, type Manifest } from '../core/schemas.js';
import { contextPack } from '../knowledge/contextPack.js';
import type { KnowledgeContext } from '../knowledge/knowledge.js';
import { writeFileAtomic } from '../store/atomic.js';

/**
 * `^regen`: the effective CODEX, through the same context pack an agent loads (laws,
 * principles, rules, the default persona, lessons), written into the instruction files each
 * coding agent reads. Lessons go into versioned files, so only public and internal ones of the
 * shared layers are taken (the pack is read with the default persona's clearance, never private).
 */

/** Instruction files are read at every request of every agent: the most recent lessons only. */
const LESSONS = 10;
/** Ample for the codex; over it the pack drops lessons first and never the laws. */
const BUDGET = 16_000;

export interface TargetResult {
  target: InstructionTarget;
  file: string;
  /** What the file's block was before: current, missing (no file or no block), stale, edited inside. */
  state: BlockState;
  written: boolean;
}

export function targetsOf(manifest: Manifest): InstructionTarget[] {
  return manifest.instructions?.targets ?? [...INSTRUCTION_TARGETS];
}

export async function instructionInput(ctx: KnowledgeContext, manifest: Manifest): Promise<InstructionInput> {
  const agent = manifest.default_agent;
  const pack = await contextPack({ ...ctx, agent }, { agent, task: null, budget: BUDGET, session: null });
  const content = (kind: string) => pack.sections.find((s) => s.kind === kind)?.content ?? null;
  const persona = content('persona');
  return {
    shard: ctx.shardName,
    laws: content('laws'),
    principles: content('principles'),
    rules: content('rules'),
    persona: persona === null ? null : { name: agent, body: splitFrontMatter(persona)?.body ?? persona },
    lessons: pack.sections
      .filter((s) => s.kind === 'lesson' && s.item && canRead('internal', s.item.label as Label))
      .slice(0, LESSONS)
      .map((s) => {
        const [title, ...body] = s.content.split('\n');
        return { id: s.item?.id as string, title: (title as string).replace(/ \[[^\]]*\]$/, ''), body: body.join('\n') };
      }),
  };
}

/** Bring every target in line (`check`: only say which are out of date, write nothing). */
export function regenerate(root: string, targets: readonly InstructionTarget[], input: InstructionInput, check: boolean): TargetResult[] {
  const body = renderInstructions(input);
  return targets.map((target) => {
    const file = join(root, target);
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : null;
    let spliced: ReturnType<typeof spliceBlock>;
    try {
      spliced = spliceBlock(existing, body, target);
    } catch (error) {
      throw new AgenceError('corrupt', `${target} ${(error as Error).message}`, { file, fix: 'restore the end marker (or remove the begin marker) by hand, then run `agence ^regen`' });
    }
    const written = !check && spliced.state !== 'current';
    if (written) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileAtomic(file, spliced.text);
      if (readFileSync(file, 'utf8') !== spliced.text) throw new AgenceError('corrupt', `${target} did not read back as written`, { file, fix: 'check the disk and run `agence ^regen` again' });
    }
    return { target, file, state: spliced.state, written };
  });
}
