#!/usr/bin/env node
// Sums a Node.js .cpuprofile's self time per function and per url:line, top N of each, and the
// inclusive time per function. With a function name (e.g. findOne), also the time under it by the
// chain of Azurite table frames that called it (DEPTH=6 for a longer chain than 3).
//   node bench/cpuprofile-summary.js <file.cpuprofile> [N] [function]
// The bench's profiles: bench/bench.sh google ... --azurite-cpu-prof DIR (the table service is the
// one with the most non-idle time).
const fs = require("fs");
const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 30);
const profile = JSON.parse(fs.readFileSync(file, "utf8"));
// Each sample is one node; timeDeltas[i] is the time before sample i (microseconds).
const selfMicros = new Map();
profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map();
const byLine = new Map();
const parents = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
const nodes = new Map(profile.nodes.map(n => [n.id, n]));
const short = url => url.replace(/^.*node_modules\//, "").replace(/^file:\/\//, "");
const name = f => `${f.functionName || "(anonymous)"} ${short(f.url)}`;
for (const node of profile.nodes) {
  const micros = selfMicros.get(node.id) ?? 0;
  if (!micros) continue;
  const f = node.callFrame;
  const fn = name(f);
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
  const line = `${short(f.url)}:${f.lineNumber + 1}`;
  byLine.set(line, (byLine.get(line) ?? 0) + micros);
}
// Inclusive time per function (each sample counted once per distinct function on its stack).
const inclusive = new Map();
for (const [id, micros] of selfMicros) {
  const seen = new Set();
  for (let n = id; n !== undefined; n = parents.get(n)) {
    const fn = name(nodes.get(n).callFrame);
    if (seen.has(fn)) continue;
    seen.add(fn);
    inclusive.set(fn, (inclusive.get(fn) ?? 0) + micros);
  }
}
const print = (title, map) => {
  console.log(`\n${title} (of ${(total / 1e6).toFixed(1)} s sampled)`);
  for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(micros / 1e6).toFixed(1).padStart(8)} s ${(100 * micros / total).toFixed(1).padStart(5)} %  ${key}`);
};
print("self time by function", byFunction);
print("self time by url:line", byLine);
print("inclusive time by function", inclusive);
const under = process.argv[4];
if (under) {
  const byCaller = new Map();
  for (const [id, micros] of selfMicros) {
    const chain = [];
    let hit = false;
    for (let n = id; n !== undefined; n = parents.get(n)) {
      const f = nodes.get(n).callFrame;
      if (f.functionName === under || f.functionName.endsWith("." + under)) { hit = true; chain.length = 0; continue; }
      if (hit && f.url.includes("azurite/dist/src/table/") && chain.length < (Number(process.env.DEPTH) || 3)) chain.push(f.functionName || "(anonymous)");
    }
    if (hit) byCaller.set(chain.join(" < "), (byCaller.get(chain.join(" < ")) ?? 0) + micros);
  }
  print(`time under ${under} by Azurite caller`, byCaller);
}
