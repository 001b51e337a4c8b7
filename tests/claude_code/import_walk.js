// The @imports Claude Code 2.1.112 would find in each text: its CLAUDE.md loader (cli.js)
// lexes with marked and runs (?:^|\s)@((?:[^\s\\]|\\ )+) on `text` tokens, skipping code,
// code spans and escapes, and on HTML comment blocks with the comments removed.
// Reads a JSON list of texts on stdin, prints "N texts, M with imports".
// Needs `marked` (npm install marked@15); tests/test_claude_md_integrity.py runs it when found.
const { Lexer } = require('marked');
function refs(text) {
  const out = [];
  const scan = (s) => {
    const re = /(?:^|\s)@((?:[^\s\\]|\\ )+)/g; let m;
    while ((m = re.exec(s)) !== null) {
      let p = m[1]; const h = p.indexOf('#'); if (h !== -1) p = p.substring(0, h);
      p = p.replaceAll('\\ ', ' ');
      if (p && (p.startsWith('./') || p.startsWith('~/') || (p.startsWith('/') && p !== '/') ||
          (!p.startsWith('@') && !p.match(/^[#%^&*()]+/) && p.match(/^[a-zA-Z0-9._-]/)))) out.push(p);
    }
  };
  const walk = (toks) => {
    for (const t of toks) {
      if (t.type === 'code' || t.type === 'codespan') continue;
      if (t.type === 'html') { const raw = t.raw || ''; if (raw.trimStart().startsWith('<!--') && raw.includes('-->')) { const rest = raw.replace(/<!--[\s\S]*?-->/g, ''); if (rest.trim().length > 0) scan(rest); } continue; }
      if (t.type === 'text') scan(t.text || '');
      if (t.tokens) walk(t.tokens);
      if (t.items) walk(t.items);
    }
  };
  walk(new Lexer().lex(text));
  return out;
}
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
let bad = 0;
for (const c of cases) { const r = refs(c); if (r.length) { bad++; if (bad < 5) console.log(JSON.stringify(r), JSON.stringify(c).slice(0, 300)); } }
console.log(`${cases.length} texts, ${bad} with imports`);
