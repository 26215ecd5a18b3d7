/**
 * Context packs (what an agent loads at session start) fitted to a token budget. Pure: the
 * knowledge service gathers the sections, this decides what stays.
 */

export interface PackSection {
  kind: 'laws' | 'principles' | 'rules' | 'persona' | 'session' | 'lesson' | 'code';
  title: string;
  source: string;
  content: string;
  tokens: number;
  /** For a lesson: its id and label (a model call refuses secret ones on a remote provider). */
  item?: { id: string; label: string };
}

export interface ContextPack {
  agent: string;
  task: string | null;
  budget: number;
  tokens: number;
  sections: PackSection[];
  dropped: { kind: PackSection['kind']; title: string; tokens: number }[];
  /** True when even the laws alone do not fit the budget. */
  overBudget: boolean;
}

/** Drop order: highest first (code for the task goes first). Lessons are ranked among themselves by relevance. */
const DROP_RANK: Record<PackSection['kind'], number> = { code: 6, lesson: 5, session: 4, rules: 3, principles: 2, persona: 1, laws: 0 };

/** Drop sections, least relevant first, until the pack fits the budget. */
export function trimToBudget(agent: string, budget: number, task: string | null, sections: PackSection[]): ContextPack {
  const kept = sections.map((section, order) => ({ section, order }));
  const dropped: ContextPack['dropped'] = [];
  const total = () => kept.reduce((n, k) => n + k.section.tokens, 0);
  // Within a kind, later sections are the less relevant ones (lessons come ranked).
  const victims = [...kept].filter((k) => k.section.kind !== 'laws').sort((a, b) => DROP_RANK[b.section.kind] - DROP_RANK[a.section.kind] || b.order - a.order);
  for (const victim of victims) {
    if (total() <= budget) break;
    kept.splice(kept.indexOf(victim), 1);
    dropped.push({ kind: victim.section.kind, title: victim.section.title, tokens: victim.section.tokens });
  }
  return { agent, task, budget, tokens: total(), sections: kept.map((k) => k.section), dropped, overBudget: total() > budget };
}
