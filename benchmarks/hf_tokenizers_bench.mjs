// Baseline for bench_tokenizer: encode throughput of Hugging Face's JS tokenizer (@huggingface/tokenizers,
// version pinned in benchmarks/package.json; install with scripts/bench-setup).
//
// Usage: node benchmarks/hf_tokenizers_bench.mjs TOKENIZER_DIR TEXT_FILE REPS
// Loads TOKENIZER_DIR/tokenizer.json (+ tokenizer_config.json when present), encodes the UTF-8 text of
// TEXT_FILE once untimed, then REPS times (add_special_tokens = false), and prints one JSON line:
//   {"mb_per_s": median MB/s (1 MB = 1e6 bytes of UTF-8 input), "seconds": [...], "tokens": N, "bytes": B}
import fs from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

const [dir, textFile, repsArg] = process.argv.slice(2);
if (!dir || !textFile) {
  console.error("usage: node hf_tokenizers_bench.mjs TOKENIZER_DIR TEXT_FILE [REPS]");
  process.exit(2);
}
const reps = Number(repsArg ?? 5);
const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const configFile = path.join(dir, "tokenizer_config.json");
const tok = new Tokenizer(readJson(path.join(dir, "tokenizer.json")),
                          fs.existsSync(configFile) ? readJson(configFile) : {});
const buffer = fs.readFileSync(textFile);
const text = buffer.toString("utf8");
const bytes = buffer.length;

let tokens = tok.encode(text, { add_special_tokens: false }).ids.length;  // warm-up (JIT, caches)
const seconds = [];
for (let i = 0; i < reps; i++) {
  const start = process.hrtime.bigint();
  tokens = tok.encode(text, { add_special_tokens: false }).ids.length;
  seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
}
const sorted = [...seconds].sort((a, b) => a - b);
const n = sorted.length;
const med = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
console.log(JSON.stringify({ mb_per_s: bytes / 1e6 / med, seconds, tokens, bytes }));
