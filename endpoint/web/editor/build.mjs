// Bundles src/editor.js with its npm dependencies into ../static/editor.js (minified, one file, no
// request to another host), and writes the licences of every package in the bundle beside it
// (../static/editor-licences.txt), which the query page links to.
import { build } from "esbuild";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, process.env.KUSEI_EDITOR_OUT || "../static");
const result = await build({
  entryPoints: [join(here, "src/editor.js")],
  bundle: true, minify: true, format: "iife", target: ["es2020"], metafile: true,
  outfile: join(out, "editor.js"), legalComments: "none", logLevel: "warning",
  // KUSEI_EDITOR_LANGUAGE swaps src/language.js for another file: how the SPARQL modes were measured.
  plugins: process.env.KUSEI_EDITOR_LANGUAGE ? [{
    name: "language",
    setup(b) { b.onResolve({ filter: /^\.\/language\.js$/ }, () => ({ path: resolve(process.env.KUSEI_EDITOR_LANGUAGE) })); },
  }] : [],
});
if (process.env.KUSEI_EDITOR_SIZES) {
  const sizes = {};
  for (const [input, info] of Object.entries(result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    const key = m ? m[1] : input;
    sizes[key] = (sizes[key] || 0) + info.bytesInOutput;
  }
  console.log(Object.entries(sizes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join("\n"));
}

// The packages whose code is in the bundle (esbuild's inputs that left bytes in the output).
const packages = new Set();
const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint);
for (const [input, info] of Object.entries(output.inputs)) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match && info.bytesInOutput > 0) packages.add(match[1]);
}
const sections = [];
for (const name of [...packages].sort()) {
  const dir = join(here, "node_modules", name);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"].map((f) => join(dir, f)).find(existsSync);
  const text = file ? readFileSync(file, "utf8").trim() : `License: ${meta.license} (no licence file in the package)`;
  sections.push(`${name} ${meta.version} (${meta.license})\n${"-".repeat(60)}\n${text}\n`);
}
writeFileSync(join(out, "editor-licences.txt"),
  "The query editor (editor.js) bundles these npm packages; their licences follow.\n\n" + sections.join("\n"));
const size = readFileSync(join(out, "editor.js")).length;
console.log(`editor.js ${size} bytes, ${packages.size} packages: ${[...packages].sort().join(", ")}`);
