/**
 * Counts the names each workspace member exports, per entry point, with
 * `deno doc --json`: `deno run --allow-read --allow-run scripts/count_exports.ts [root]`.
 *
 * @module
 */
const root = Deno.args[0] ?? ".";

interface DocSymbol {
  name: string;
}

async function exportedNames(file: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", file],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
  // deno doc --json (format version 2): { nodes: { [module]: { symbols: [{ name }] } } }.
  const doc = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    nodes: Record<string, { symbols?: DocSymbol[] }>;
  };
  const names = new Set<string>();
  for (const module of Object.values(doc.nodes)) {
    for (const symbol of module.symbols ?? []) names.add(symbol.name);
  }
  return [...names].sort();
}

const members: string[] = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)).workspace;
for (const member of members) {
  const config = JSON.parse(await Deno.readTextFile(`${root}/${member}/deno.json`));
  const exports: Record<string, string> = typeof config.exports === "string"
    ? { ".": config.exports }
    : config.exports;
  for (const [entry, file] of Object.entries(exports)) {
    const names = await exportedNames(`${member}/${file}`);
    console.log(`${config.name}${entry === "." ? "" : entry.slice(1)}\t${names.length}`);
  }
}
