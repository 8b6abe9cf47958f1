// Runs one SPARQL SELECT with Comunica against a source URL and prints the solutions as JSON
// (SPARQL 1.1 Query Results JSON terms), for tests/test_portable.py.
// Usage: node query.mjs <source URL> <query file>
// The source is given without a type: Comunica must recognise the endpoint from what the URL
// serves (its SPARQL service description), as it would for any URL a user pastes in.
import { readFileSync } from 'node:fs';
import { QueryEngine } from '@comunica/query-sparql';

const [source, file] = process.argv.slice(2);
const query = readFileSync(file, 'utf8');
const engine = new QueryEngine();

function term(t) {
  if (t.termType === 'NamedNode') return { type: 'uri', value: t.value };
  if (t.termType === 'BlankNode') return { type: 'bnode', value: t.value };
  const out = { type: 'literal', value: t.value };
  if (t.language) out['xml:lang'] = t.language;
  else if (t.datatype && t.datatype.value !== 'http://www.w3.org/2001/XMLSchema#string') out.datatype = t.datatype.value;
  return out;
}

try {
  const result = await engine.query(query, { sources: [source], lenient: false });
  if (result.resultType !== 'bindings') throw new Error(`not a SELECT: ${result.resultType}`);
  const metadata = await result.metadata();
  const vars = metadata.variables.map((v) => (v.variable || v).value);
  const rows = [];
  const stream = await result.execute();
  for await (const bindings of stream) {
    const row = {};
    for (const [variable, value] of bindings) row[variable.value] = term(value);
    rows.push(row);
  }
  process.stdout.write(JSON.stringify({ head: { vars }, results: { bindings: rows } }));
} catch (error) {
  process.stderr.write(String(error && error.stack || error));
  process.exit(1);
}
