import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { agence, git, json, repo } from './helpers.js';
import { agenceAsync, promptOf, loopback, ok } from './llmServer.js';

const lb = loopback();
const { sb } = lb;
beforeAll(() => {
  lb.server.reply = () => ({ text: 'Finding: README.md:2 must-fix.' });
});


describe('skills', () => {
  const dir = repo(sb, 'skilled');
  ok(agence(sb, dir, ['^init']));
  git(sb, dir, ['add', '.']);
  git(sb, dir, ['commit', '-qm', 'agence']);

  it('^skills lists the shipped workflows and the guides', () => {
    const { skills } = json<{ skills: { name: string; kind: string; agent?: string }[] }>(ok(agence(sb, dir, ['^skills', '--json'])));
    const workflows = skills.filter((s) => s.kind === 'workflow').map((s) => s.name);
    expect(workflows).toEqual(['brainstorm', 'design', 'document', 'explain', 'fix', 'plan', 'precommit', 'refactor', 'review', 'test']);
    expect(skills.filter((s) => s.kind === 'guide').map((s) => s.name)).toContain('handoff');
  });

  it('^review sends the work tree diff to its agent (pilot, OpenAI) and keeps the turn in the session', async () => {
    appendFileSync(join(dir, 'README.md'), 'A line added for review: sleep(5000) // TODO remove\n');
    const result = json<{ answer: string; agent: string; skill: string; session: string }>(ok(await agenceAsync(sb, dir, ['^review', 'look at timing', '--json'], lb.env)));
    expect(result).toMatchObject({ agent: 'pilot', skill: 'review', answer: 'Finding: README.md:2 must-fix.' });
    const req = lb.server.requests.at(-1)!;
    expect(req.protocol).toBe('openai-responses');
    const { last } = promptOf(req);
    expect(last).toMatch(/^Review the changes below .* look at timing/s);
    expect(last).toMatch(/### git diff HEAD\n```\n.*\+A line added for review: sleep\(5000\)/s);
    expect(last).toMatch(/### git status --short\n```\n M README.md/);
    const shown = json<{ runstate: { memory_state: { conversation: { role: string }[] } } }>(ok(agence(sb, dir, ['^session', 'show', result.session, '--json'])));
    expect(shown.runstate.memory_state.conversation).toHaveLength(2);
  });

  it('^explain reads the files named, only inside the repository; @agent overrides the skill agent', async () => {
    ok(await agenceAsync(sb, dir, ['@ralph', '^explain', 'README.md', '--json'], lb.env));
    const req = lb.server.requests.at(-1)!;
    expect(req.protocol).toBe('anthropic');
    expect(promptOf(req).last).toMatch(/### README.md\n```\n# skilled\n/);
    const outside = await agenceAsync(sb, dir, ['^explain', '../home/.gitconfig'], lb.env);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/outside this repository/);
    const missing = await agenceAsync(sb, dir, ['^explain', 'nope.ts'], lb.env);
    expect(missing.stderr).toMatch(/no file nope\.ts/);
  });

  it('a required input missing, a guide run as a workflow, an unknown skill: clear errors', async () => {
    const before = lb.server.requests.length;
    const fix = await agenceAsync(sb, dir, ['^fix'], lb.env);
    expect(fix.code).toBe(1);
    expect(fix.stderr).toMatch(/\^fix needs problem: usage: agence \^fix PROBLEM/);
    const guide = await agenceAsync(sb, dir, ['^skill', 'handoff'], lb.env);
    expect(guide.stderr).toMatch(/handoff is a guide for agents, not a prompt workflow/);
    const unknown = await agenceAsync(sb, dir, ['^skill', 'reveiw'], lb.env);
    expect(unknown.stderr).toMatch(/no skill reveiw.*did you mean \^review/);
    expect(lb.server.requests.length).toBe(before);
  });

  it("a shard's own skill runs with ^skill NAME; broken front matter names the file", async () => {
    const file = join(dir, '.agence/codex/skills/haiku.md');
    writeFileSync(file, '---\nname: haiku\ndescription: a haiku about a file\nagent: aiko\ninputs: [{ name: file, required: true }]\ncontext: [{ files: args }]\n---\nWrite a haiku about {{file}}.\n');
    ok(await agenceAsync(sb, dir, ['^skill', 'haiku', 'README.md', '--json'], lb.env));
    expect(promptOf(lb.server.requests.at(-1)!).last).toMatch(/^Write a haiku about README\.md\./);
    expect(lb.server.requests.at(-1)!.body.model).toBe('claude-haiku-4-5');
    writeFileSync(file, '---\nname: haiku\ndescription: [broken\n---\nx\n');
    const broken = await agenceAsync(sb, dir, ['^skill', 'haiku'], lb.env);
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/front matter of \.agence\/codex\/skills\/haiku\.md is not YAML/);
    writeFileSync(file, '---\nname: haiku\ndescription: x\ncontext: [{ git: push origin main }]\n---\nx\n');
    expect((await agenceAsync(sb, dir, ['^skill', 'haiku'], lb.env)).stderr).toMatch(/context git "push origin main" is not a read-only git command/);
  });
});
