#!/usr/bin/python3
"""Generate inference/unicode-data.cpp: compact Unicode tables for the tokenizer.

Run with Debian's interpreter (its `unicodedata` module is the data source):
    /usr/bin/python3 scripts/gen-unicode-tables.py > inference/unicode-data.cpp

Tables (all sorted, searched with binary search or expanded once at start-up):
  - general category: one uint32 per run of equal category, (first code point << 5) | category index
  - White_Space: ranges (Python has no accessor for the property; the values below are PropList.txt's,
    unchanged since Unicode 6.1)
  - simple case folding: runs (first, count, delta, stride); Python exposes full folding only, so a code point
    whose full folding is one character uses it, else its lowercase if that is one character, else itself
  - canonical combining class: runs (first, count, class) for class != 0
  - canonical decompositions (one or two code points, applied recursively at run time; Hangul is algorithmic)
  - primary composites: (first, second) -> composite, i.e. pairs whose composite survives NFC
  - NFC_Quick_Check != Yes: code points that cannot occur in NFC or may compose with a preceding one
"""
import sys
import unicodedata

MAX = 0x110000
CATEGORIES = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe",
              "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"]
WHITE_SPACE = [(0x0009, 0x000D), (0x0020, 0x0020), (0x0085, 0x0085), (0x00A0, 0x00A0), (0x1680, 0x1680),
               (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000)]
HANGUL_S_BASE, HANGUL_S_COUNT = 0xAC00, 11172


def is_hangul_syllable(cp):
    return HANGUL_S_BASE <= cp < HANGUL_S_BASE + HANGUL_S_COUNT


def category_runs():
    runs = []
    prev = None
    for cp in range(MAX):
        cat = CATEGORIES.index(unicodedata.category(chr(cp)))
        if cat != prev:
            runs.append((cp << 5) | cat)
            prev = cat
    return runs


def simple_fold(cp):
    c = chr(cp)
    if 0xD800 <= cp <= 0xDFFF:
        return cp
    full = c.casefold()
    if len(full) == 1:
        return ord(full)
    lower = c.lower()
    if len(lower) == 1:
        return ord(lower)
    return cp


def fold_runs():
    pairs = [(cp, simple_fold(cp)) for cp in range(MAX) if simple_fold(cp) != cp]
    runs = []  # (first, count, delta, stride)
    for cp, f in pairs:
        delta = f - cp
        if runs:
            first, count, d, stride = runs[-1]
            last = first + (count - 1) * stride
            if d == delta:
                if count == 1 and cp - last in (1, 2):
                    runs[-1] = (first, 2, d, cp - last)
                    continue
                if count > 1 and cp - last == stride:
                    runs[-1] = (first, count + 1, d, stride)
                    continue
        runs.append((cp, 1, delta, 1))
    return runs


def ccc_runs():
    runs = []
    for cp in range(MAX):
        ccc = unicodedata.combining(chr(cp))
        if ccc == 0:
            continue
        if runs and runs[-1][0] + runs[-1][1] == cp and runs[-1][2] == ccc:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1, ccc)
        else:
            runs.append((cp, 1, ccc))
    return runs


def canonical_decompositions():
    out = []
    for cp in range(MAX):
        if is_hangul_syllable(cp):
            continue
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        assert 1 <= len(parts) <= 2, (hex(cp), parts)
        out.append((cp, parts[0], parts[1] if len(parts) == 2 else 0))
    return out


def compositions(decomps):
    out = []
    for cp, a, b in decomps:
        if b == 0:
            continue  # singletons never recompose
        if unicodedata.normalize("NFC", chr(cp)) != chr(cp):
            continue  # composition exclusion or non-starter decomposition
        out.append((a, b, cp))
    out.sort()
    return out


def nfc_quick_check_ranges(comps):
    maybe = {b for _, b, _ in comps}
    maybe.update(range(0x1161, 0x1176))  # Hangul V jamo
    maybe.update(range(0x11A8, 0x11C3))  # Hangul T jamo
    flagged = []
    for cp in range(MAX):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if cp in maybe or not unicodedata.is_normalized("NFC", chr(cp)):
            flagged.append(cp)
    ranges = []
    for cp in flagged:
        if ranges and ranges[-1][1] + 1 == cp:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return ranges


def emit_list(name, ctype, items, per_line):
    lines = [f"const {ctype} {name}[] = {{"]
    for i in range(0, len(items), per_line):
        lines.append("    " + " ".join(item + "," for item in items[i:i + per_line]))
    lines.append("};")
    lines.append(f"const size_t {name}_size = sizeof({name}) / sizeof({name}[0]);")
    return "\n".join(lines)


def main():
    cats = category_runs()
    folds = fold_runs()
    cccs = ccc_runs()
    decomps = canonical_decompositions()
    comps = compositions(decomps)
    qc = nfc_quick_check_ranges(comps)
    out = [
        "// GENERATED by scripts/gen-unicode-tables.py from Python " + sys.version.split()[0] + "'s unicodedata:",
        "// Unicode " + unicodedata.unidata_version + ". Do not edit; regenerate with",
        "//   /usr/bin/python3 scripts/gen-unicode-tables.py > inference/unicode-data.cpp",
        "// clang-format off",
        '#include "inference/unicode-data.h"',
        "",
        "namespace chorus::inference::unicode_data {",
        "",
        f'const char kUnicodeVersion[] = "{unicodedata.unidata_version}";',
        "",
        "// General category runs: (first code point << 5) | index into GeneralCategory; a run ends where the next starts.",
        emit_list("kCategoryRuns", "uint32_t", [f"0x{v:07x}" for v in cats], 8),
        "",
        "// White_Space (PropList.txt): inclusive ranges.",
        emit_list("kWhiteSpace", "CodeRange", [f"{{0x{a:04x}, 0x{b:04x}}}" for a, b in WHITE_SPACE], 4),
        "",
        "// Simple case folding: code points first, first + stride, ... (count of them) map to cp + delta.",
        emit_list("kFoldRuns", "FoldRun", [f"{{0x{a:05x}, {n}, {d}, {s}}}" for a, n, d, s in folds], 4),
        "",
        "// Canonical combining class != 0: runs of code points sharing a class.",
        emit_list("kCombiningClassRuns", "ClassRun", [f"{{0x{a:05x}, {n}, {c}}}" for a, n, c in cccs], 5),
        "",
        "// Canonical decompositions (second = 0 for singletons), sorted by code point; Hangul excluded.",
        emit_list("kDecompositions", "Decomposition",
                  [f"{{0x{c:05x}, 0x{a:05x}, 0x{b:05x}}}" for c, a, b in decomps], 3),
        "",
        "// Primary composites, sorted by (first, second); Hangul excluded.",
        emit_list("kCompositions", "Composition", [f"{{0x{a:05x}, 0x{b:05x}, 0x{c:05x}}}" for a, b, c in comps], 3),
        "",
        "// NFC_Quick_Check No or Maybe: inclusive ranges.",
        emit_list("kNfcQuickCheckNotYes", "CodeRange", [f"{{0x{a:05x}, 0x{b:05x}}}" for a, b in qc], 4),
        "",
        "}  // namespace chorus::inference::unicode_data",
        "",
    ]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
