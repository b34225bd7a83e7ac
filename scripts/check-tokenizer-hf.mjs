#!/usr/bin/env node
// Encodes texts with Hugging Face's JS tokenizer (@huggingface/tokenizers) and prints the ids as JSON lines, to
// compare with what Chorus gives for the same tokenizer.json (e.g. one from `chorus train tokenizer`).
//
// Usage: node scripts/check-tokenizer-hf.mjs TOKENIZER_JSON TEXT_FILE [--jsonl] [--chorus CHORUS_BIN]
//   TEXT_FILE      one text per line (UTF-8); with --jsonl, one JSON string per line (texts with newlines)
//   --chorus BIN   also run `BIN tokenize --model DIR --text=TEXT` for each text and compare; prints the
//                  mismatches and "N/M texts match" on stderr and exits 1 unless all match (texts containing
//                  NUL cannot be command-line arguments and are left out of this comparison)
// Output on stdout: one JSON array of ids per text (add_special_tokens = false), in input order.
//
// The package is resolved from here or, failing that, from benchmarks/node_modules (installed by
// scripts/bench-setup; the version is pinned in benchmarks/package.json).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

async function loadTokenizers() {
  try {
    return await import("@huggingface/tokenizers");
  } catch {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const dir = path.join(here, "..", "benchmarks", "node_modules", "@huggingface", "tokenizers");
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    const entry = pkg.exports?.["."]?.node?.import ?? pkg.module ?? pkg.main;
    return await import(pathToFileURL(path.join(dir, entry)).href);
  }
}

const args = process.argv.slice(2);
const jsonl = args.includes("--jsonl");
const chorusAt = args.indexOf("--chorus");
const chorusBin = chorusAt >= 0 ? args[chorusAt + 1] : null;
const positional = args.filter((a, i) => !a.startsWith("--") && (chorusAt < 0 || i !== chorusAt + 1));
const [tokenizerFile, textFile] = positional;
if (!tokenizerFile || !textFile || (chorusAt >= 0 && !chorusBin)) {
  console.error("usage: node scripts/check-tokenizer-hf.mjs TOKENIZER_JSON TEXT_FILE [--jsonl] [--chorus CHORUS_BIN]");
  process.exit(2);
}

const { Tokenizer } = await loadTokenizers();
const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const configFile = path.join(path.dirname(tokenizerFile), "tokenizer_config.json");
const tok = new Tokenizer(readJson(tokenizerFile), fs.existsSync(configFile) ? readJson(configFile) : {});

let lines = fs.readFileSync(textFile, "utf8").split("\n");
if (lines.length && lines[lines.length - 1] === "") lines.pop();  // the final newline ends the last line
const texts = jsonl ? lines.map((l) => JSON.parse(l)) : lines;

let matched = 0;
let skipped = 0;
for (const [i, text] of texts.entries()) {
  const ids = Array.from(tok.encode(text, { add_special_tokens: false }).ids, Number);
  console.log(JSON.stringify(ids));
  if (!chorusBin) continue;
  if (text.includes("\0")) {  // a NUL cannot be passed on a command line (the C++ fixture test covers these)
    skipped++;
    continue;
  }
  const out = execFileSync(chorusBin, ["tokenize", "--model", path.dirname(tokenizerFile), `--text=${text}`], {
    encoding: "utf8",
  });
  const ours = JSON.parse(out).ids;
  if (JSON.stringify(ours) === JSON.stringify(ids)) {
    matched++;
  } else {
    console.error(`text ${i + 1} differs: ${JSON.stringify(text)}\n  hf:     ${JSON.stringify(ids)}\n  chorus: ${JSON.stringify(ours)}`);
  }
}
if (chorusBin) {
  const compared = texts.length - skipped;
  console.error(`${matched}/${compared} texts match` + (skipped ? ` (${skipped} with a NUL character not compared)` : ""));
  process.exit(matched === compared ? 0 : 1);
}
