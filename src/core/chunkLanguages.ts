/**
 * The languages the chunker parses, how a path maps to one, and which syntax nodes are
 * declarations in each. Pure: data and small functions over a syntax node.
 */

const LANGUAGES = ['typescript', 'tsx', 'javascript', 'python', 'go', 'rust', 'java', 'c', 'cpp', 'ruby', 'bash', 'markdown'] as const;
export type LanguageName = (typeof LANGUAGES)[number];

/** The parse-tree node the chunk rules read: what web-tree-sitter's `Node` offers, and no more. */
export interface SyntaxNode {
  type: string;
  isNamed: boolean;
  isError: boolean;
  isMissing: boolean;
  hasError: boolean;
  startIndex: number;
  endIndex: number;
  startPosition: { row: number; column: number };
  endPosition: { row: number; column: number };
  text: string;
  childCount: number;
  namedChildren: (SyntaxNode | null)[];
  children: (SyntaxNode | null)[];
  parent: SyntaxNode | null;
  previousSibling: SyntaxNode | null;
  childForFieldName(name: string): SyntaxNode | null;
}

export type ChunkKind =
  | 'function'
  | 'method'
  | 'class'
  | 'interface'
  | 'type'
  | 'struct'
  | 'enum'
  | 'impl'
  | 'trait'
  | 'module'
  | 'namespace'
  | 'constant'
  | 'macro'
  | 'section'
  | 'block'
  | 'window';

export const CHUNK_KINDS: readonly ChunkKind[] = ['function', 'method', 'class', 'interface', 'type', 'struct', 'enum', 'impl', 'trait', 'module', 'namespace', 'constant', 'macro', 'section', 'block', 'window'];

/** Kinds whose declarations hold other declarations (a class's methods, a module's classes). */
export const CONTAINER_KINDS: ReadonlySet<ChunkKind> = new Set(['class', 'interface', 'struct', 'enum', 'impl', 'trait', 'module', 'namespace', 'section']);

export interface DeclRule {
  kind: ChunkKind;
  /** The declaration's name; default: the `name` field. */
  name?: (node: SyntaxNode) => string | null;
  /** Whether this node is a declaration at all (a struct without a body is a use, not one). */
  when?: (node: SyntaxNode) => boolean;
  /** A function-like kind that is a method when declared inside a class-like container. */
  methodInContainer?: boolean;
}

export interface LanguageRules {
  decls: Record<string, DeclRule>;
  /** Nodes that wrap a declaration (`export ...`, decorators, templates): the inner one names it. */
  wrappers: Record<string, (node: SyntaxNode) => SyntaxNode | null>;
  /** Comment node types: the ones right above a declaration are its doc comment. */
  comments: ReadonlySet<string>;
  /** Nodes between a doc comment and its declaration that belong to the declaration (attributes). */
  attached: ReadonlySet<string>;
  /** Python's docstring: the first statement of the body, when it is a string. */
  docstring?: boolean;
}

const named = (node: SyntaxNode): SyntaxNode[] => node.namedChildren.filter((c): c is SyntaxNode => c !== null);
const field = (name: string) => (node: SyntaxNode) => node.childForFieldName(name);
const fieldText = (node: SyntaxNode, name: string): string | null => node.childForFieldName(name)?.text ?? null;
const hasField = (name: string) => (node: SyntaxNode) => node.childForFieldName(name) !== null;

/** The first `variable_declarator` of a JS/TS `const`/`let`/`var`, and what it is set to. */
function declarator(node: SyntaxNode): { name: string | null; value: SyntaxNode | null } {
  const first = named(node).find((c) => c.type === 'variable_declarator');
  return { name: first ? fieldText(first, 'name') : null, value: first?.childForFieldName('value') ?? null };
}

const FUNCTION_VALUES = new Set(['arrow_function', 'function_expression', 'function', 'generator_function']);
const CLASS_VALUES = new Set(['class', 'class_expression']);

/** Whether a node sits at the top of its file (directly, or inside an `export`). */
const moduleLevel = (node: SyntaxNode): boolean =>
  node.parent !== null && (node.parent.parent === null || (node.parent.type === 'export_statement' && node.parent.parent?.parent === null));

/**
 * A JS/TS variable is a declaration when it holds a function or a class, and a constant when it
 * is a module-level `const` (schemas, tables); its kind is decided by `scriptVariableKind`.
 */
const scriptVariable: DeclRule = {
  kind: 'constant',
  name: (node) => declarator(node).name,
  when: (node) => {
    const { value } = declarator(node);
    if (!value) return false;
    if (FUNCTION_VALUES.has(value.type) || CLASS_VALUES.has(value.type)) return true;
    return node.children[0]?.type === 'const' && moduleLevel(node);
  },
};

const scriptFieldFunction: DeclRule = {
  kind: 'method',
  name: (node) => fieldText(node, 'name') ?? fieldText(node, 'property'),
  when: (node) => FUNCTION_VALUES.has(node.childForFieldName('value')?.type ?? ''),
};

function scriptRules(typescript: boolean): LanguageRules {
  const decls: Record<string, DeclRule> = {
    function_declaration: { kind: 'function' },
    generator_function_declaration: { kind: 'function' },
    class_declaration: { kind: 'class' },
    method_definition: { kind: 'method' },
    field_definition: scriptFieldFunction,
    lexical_declaration: scriptVariable,
    variable_declaration: scriptVariable,
    // After a syntax error, a function declaration can come back as a named function expression.
    function_expression: { kind: 'function', when: (node) => node.parent?.type === 'ERROR' && node.childForFieldName('name') !== null },
  };
  if (typescript) {
    Object.assign(decls, {
      abstract_class_declaration: { kind: 'class' },
      interface_declaration: { kind: 'interface' },
      type_alias_declaration: { kind: 'type' },
      enum_declaration: { kind: 'enum' },
      internal_module: { kind: 'namespace' },
      module: { kind: 'namespace', when: hasField('body') },
      method_signature: { kind: 'method' },
      abstract_method_signature: { kind: 'method' },
      public_field_definition: scriptFieldFunction,
      function_signature: { kind: 'function' },
    });
  }
  return {
    decls,
    wrappers: {
      export_statement: field('declaration'),
      // `namespace X {}` parses as an expression statement holding the module.
      expression_statement: (node) => named(node).find((c) => c.type === 'internal_module') ?? null,
      ambient_declaration: (node) => named(node)[0] ?? null,
    },
    comments: new Set(['comment']),
    attached: new Set(['decorator']),
  };
}

/** The kind of a JS/TS variable declaration, which its value decides. */
function scriptVariableKind(node: SyntaxNode): ChunkKind {
  const { value } = declarator(node);
  if (value && FUNCTION_VALUES.has(value.type)) return 'function';
  if (value && CLASS_VALUES.has(value.type)) return 'class';
  return 'constant';
}

/** C and C++ name a function through nested declarators: `char *name(void)`. */
function cDeclaratorName(node: SyntaxNode): string | null {
  let current: SyntaxNode | null = node.childForFieldName('declarator');
  for (let depth = 0; current && depth < 8; depth++) {
    if (['identifier', 'field_identifier', 'qualified_identifier', 'destructor_name', 'operator_name', 'type_identifier'].includes(current.type)) return current.text;
    current = current.childForFieldName('declarator') ?? named(current).find((c) => c.type.endsWith('declarator') || c.type.endsWith('identifier')) ?? null;
  }
  return null;
}

const cRules = (cpp: boolean): LanguageRules => ({
  decls: {
    function_definition: { kind: 'function', name: cDeclaratorName, methodInContainer: true },
    struct_specifier: { kind: 'struct', when: hasField('body') },
    union_specifier: { kind: 'struct', when: hasField('body') },
    enum_specifier: { kind: 'enum', when: hasField('body') },
    type_definition: { kind: 'type', name: cDeclaratorName },
    ...(cpp
      ? {
          class_specifier: { kind: 'class', when: hasField('body') },
          namespace_definition: { kind: 'namespace', when: hasField('body') },
        }
      : {}),
  },
  wrappers: cpp ? { template_declaration: (node) => named(node).find((c) => ['function_definition', 'class_specifier', 'struct_specifier'].includes(c.type)) ?? null } : {},
  comments: new Set(['comment']),
  attached: new Set(),
});

/** Go: `type X struct {}` is a type declaration holding a type spec; its kind is the spec's type. */
function goTypeSpec(node: SyntaxNode): SyntaxNode | null {
  return named(node).find((c) => c.type === 'type_spec' || c.type === 'type_alias') ?? null;
}

const goTypeKind = (node: SyntaxNode): ChunkKind => {
  const type = goTypeSpec(node)?.childForFieldName('type')?.type;
  return type === 'struct_type' ? 'struct' : type === 'interface_type' ? 'interface' : 'type';
};

/** Go methods belong to their receiver's type: `func (s *Server) Start()` is Server's. */
export function goReceiver(node: SyntaxNode): string | null {
  const receiver = node.childForFieldName('receiver');
  if (!receiver) return null;
  const match = /([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\])?\s*\)\s*$/.exec(receiver.text);
  return match?.[1] ?? null;
}

function rustImplName(node: SyntaxNode): string | null {
  const type = fieldText(node, 'type');
  const trait = fieldText(node, 'trait');
  return type && trait ? `${trait} for ${type}` : type;
}

function markdownHeading(node: SyntaxNode): string | null {
  const heading = named(node).find((c) => c.type === 'atx_heading' || c.type === 'setext_heading');
  if (!heading) return null;
  const content = heading.childForFieldName('heading_content') ?? named(heading).find((c) => c.type === 'paragraph' || c.type === 'inline');
  return (content?.text ?? heading.text).replace(/^#+\s*/, '').trim() || null;
}

const RULES: Record<LanguageName, LanguageRules> = {
  typescript: scriptRules(true),
  tsx: scriptRules(true),
  javascript: scriptRules(false),
  python: {
    decls: {
      function_definition: { kind: 'function', methodInContainer: true },
      class_definition: { kind: 'class' },
    },
    wrappers: { decorated_definition: field('definition') },
    comments: new Set(['comment']),
    attached: new Set(),
    docstring: true,
  },
  go: {
    decls: {
      function_declaration: { kind: 'function' },
      method_declaration: { kind: 'method' },
      type_declaration: { kind: 'type', name: (node) => (goTypeSpec(node) ? fieldText(goTypeSpec(node) as SyntaxNode, 'name') : null) },
    },
    wrappers: {},
    comments: new Set(['comment']),
    attached: new Set(),
  },
  rust: {
    decls: {
      function_item: { kind: 'function', methodInContainer: true },
      function_signature_item: { kind: 'method' },
      struct_item: { kind: 'struct' },
      union_item: { kind: 'struct' },
      enum_item: { kind: 'enum' },
      trait_item: { kind: 'trait' },
      impl_item: { kind: 'impl', name: rustImplName },
      mod_item: { kind: 'module', when: hasField('body') },
      type_item: { kind: 'type' },
      const_item: { kind: 'constant' },
      static_item: { kind: 'constant' },
      macro_definition: { kind: 'macro' },
    },
    wrappers: {},
    comments: new Set(['line_comment', 'block_comment']),
    attached: new Set(['attribute_item']),
  },
  java: {
    decls: {
      class_declaration: { kind: 'class' },
      record_declaration: { kind: 'class' },
      interface_declaration: { kind: 'interface' },
      annotation_type_declaration: { kind: 'interface' },
      enum_declaration: { kind: 'enum' },
      method_declaration: { kind: 'method' },
      constructor_declaration: { kind: 'method' },
    },
    wrappers: {},
    comments: new Set(['line_comment', 'block_comment']),
    attached: new Set(),
  },
  c: cRules(false),
  cpp: cRules(true),
  ruby: {
    decls: {
      method: { kind: 'function', methodInContainer: true },
      singleton_method: { kind: 'method', name: (node) => `${fieldText(node, 'object') ?? 'self'}.${fieldText(node, 'name') ?? ''}` },
      class: { kind: 'class' },
      module: { kind: 'module' },
    },
    wrappers: {},
    comments: new Set(['comment']),
    attached: new Set(),
  },
  bash: {
    decls: { function_definition: { kind: 'function' } },
    wrappers: {},
    comments: new Set(['comment']),
    attached: new Set(),
  },
  markdown: {
    decls: { section: { kind: 'section', name: markdownHeading } },
    wrappers: {},
    comments: new Set(),
    attached: new Set(),
  },
};

export function languageRules(language: LanguageName): LanguageRules {
  return RULES[language];
}

/** The kind of a declaration node, where the node itself decides it (Go types, JS/TS variables). */
export function declKind(language: LanguageName, node: SyntaxNode, rule: DeclRule): ChunkKind {
  if (language === 'go' && node.type === 'type_declaration') return goTypeKind(node);
  if ((node.type === 'lexical_declaration' || node.type === 'variable_declaration') && language !== 'python') return scriptVariableKind(node);
  return rule.kind;
}

const EXTENSIONS: Record<string, LanguageName> = {
  ts: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  tsx: 'tsx',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'javascript',
  py: 'python',
  pyi: 'python',
  go: 'go',
  rs: 'rust',
  java: 'java',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  cxx: 'cpp',
  'c++': 'cpp',
  hh: 'cpp',
  hpp: 'cpp',
  hxx: 'cpp',
  ipp: 'cpp',
  rb: 'ruby',
  rake: 'ruby',
  gemspec: 'ruby',
  sh: 'bash',
  bash: 'bash',
  md: 'markdown',
  markdown: 'markdown',
};

const FILE_NAMES: Record<string, LanguageName> = { Rakefile: 'ruby', Gemfile: 'ruby', '.bashrc': 'bash', '.bash_profile': 'bash', '.profile': 'bash' };

/**
 * The language of a file from its name, else from a `#!` line (`#!/usr/bin/env bash`), or null
 * when no grammar reads it (the file is then cut into line windows).
 */
export function languageOf(path: string, firstLine = ''): LanguageName | null {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const byName = FILE_NAMES[base];
  if (byName) return byName;
  const dot = base.lastIndexOf('.');
  if (dot > 0) {
    const byExtension = EXTENSIONS[base.slice(dot + 1).toLowerCase()];
    if (byExtension) return byExtension;
  }
  const shebang = /^#!\s*(?:\/usr\/bin\/env\s+(?:-\S+\s+)*)?(?:\S*\/)?(\S+)/.exec(firstLine)?.[1];
  if (shebang === 'bash' || shebang === 'sh' || shebang === 'zsh' || shebang === 'dash') return 'bash';
  if (shebang?.startsWith('python')) return 'python';
  if (shebang === 'node') return 'javascript';
  if (shebang === 'ruby') return 'ruby';
  return null;
}
