// Parse Mermaid files with the real Mermaid parser (used by tests/test_graph.py
// when LIFECHECK_MERMAID_DIR names a folder where `npm install mermaid jsdom`
// was run).  Prints one line per file; exit status 1 when any fails to parse.
import fs from 'fs';
import { createRequire } from 'module';
import path from 'path';

const require = createRequire(path.join(process.env.LIFECHECK_MERMAID_DIR, 'package.json'));
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import(require.resolve('mermaid'));
mermaid.initialize({ startOnLoad: false });
let bad = 0;
for (const file of process.argv.slice(2)) {
  try {
    const result = await mermaid.parse(fs.readFileSync(file, 'utf8'));
    console.log(`${file}: ok (${result.diagramType})`);
  } catch (e) {
    bad++;
    console.log(`${file}: ${String(e.message || e)}`);
  }
}
process.exit(bad ? 1 : 0);
