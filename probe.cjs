const { Parser, Language } = require('web-tree-sitter');
(async () => {
  await Parser.init();
  const lang = await Language.load(require('fs').readFileSync('node_modules/tree-sitter-bash/tree-sitter-bash.wasm'));
  const p = new Parser(); p.setLanguage(lang);
  const dump = (n, d=0) => { let s = '  '.repeat(d) + (n.isNamed? n.type : JSON.stringify(n.type)) + (n.childCount===0? ' '+JSON.stringify(n.text):''); for (let i=0;i<n.childCount;i++){ const f=n.fieldNameForChild(i); const c=n.child(i); s+='\n'+dump(c,d+1).replace(/^(\s*)/, '$1'+(f?f+': ':''));} return s; };
  for (const src of process.argv.slice(2)) { const t = p.parse(src); console.log('### '+src+ ' err='+t.rootNode.hasError); console.log(dump(t.rootNode)); }
})();
