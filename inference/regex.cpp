// Backtracking regex engine: pattern -> syntax tree -> instruction program, run by a loop with an explicit
// backtrack stack. Single-character loops (\p{L}+, \s*, \p{N}{1,3}) are one instruction that backs off one
// character at a time without pushing a frame per character; top-level alternatives are separate entry points
// with a first-character filter, so most alternatives are rejected without running.
#include "inference/regex.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

#include "inference/unicode.h"

namespace chorus::inference {
namespace {

constexpr uint32_t kInf = std::numeric_limits<uint32_t>::max();
constexpr char32_t kFastLimit = 2048;  // code points below this are tested with a bitmap
constexpr size_t kMaxProgram = 200000;  // instructions
constexpr uint32_t kMaxCount = 1000;    // largest {m,n} bound
constexpr int kMaxDepth = 100;          // deepest group nesting (the parser and matcher recurse on groups)

using Bitmap = std::array<uint64_t, kFastLimit / 64>;

inline bool bit(const Bitmap& b, char32_t c) { return (b[c >> 6] >> (c & 63)) & 1; }
inline void set_bit(Bitmap& b, char32_t c) { b[c >> 6] |= uint64_t{1} << (c & 63); }

inline char32_t fold(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  return unicode_simple_fold(c);
}

struct CharClass {
  std::vector<std::pair<char32_t, char32_t>> ranges;  // sorted, disjoint, inclusive
  uint32_t props = 0;                                 // matches when unicode_props(cp) & props
  std::vector<uint32_t> neg_props;                    // each matches when !(unicode_props(cp) & mask)
  bool negated = false;
  bool icase = false;
  Bitmap fast{};

  bool in_ranges(char32_t c) const {
    auto it = std::upper_bound(ranges.begin(), ranges.end(), c,
                               [](char32_t v, const std::pair<char32_t, char32_t>& r) { return v < r.first; });
    return it != ranges.begin() && c <= std::prev(it)->second;
  }
  bool test_slow(char32_t c) const {
    bool m = in_ranges(c);
    if (!m && (props || !neg_props.empty())) {
      uint32_t p = unicode_props(c);
      m = (p & props) != 0;
      for (size_t i = 0; !m && i < neg_props.size(); ++i) m = (p & neg_props[i]) == 0;
    }
    if (!m && icase) {
      char32_t f = fold(c);
      if (f != c) m = in_ranges(f);
    }
    return m != negated;
  }
  bool test(char32_t c) const { return c < kFastLimit ? bit(fast, c) : test_slow(c); }

  void add_range(char32_t lo, char32_t hi) { ranges.emplace_back(lo, hi); }
  void finalize() {
    if (icase) {
      // Add the folded form of every listed code point (bounded), so that a folded input finds its class member.
      std::vector<std::pair<char32_t, char32_t>> extra;
      size_t budget = 0x30000;
      for (auto [lo, hi] : ranges) {
        for (char32_t c = lo; c <= hi && budget > 0; ++c, --budget) {
          char32_t f = fold(c);
          if (f != c) extra.emplace_back(f, f);
        }
      }
      ranges.insert(ranges.end(), extra.begin(), extra.end());
    }
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<char32_t, char32_t>> merged;
    for (auto r : ranges) {
      if (!merged.empty() && r.first <= merged.back().second + 1)
        merged.back().second = std::max(merged.back().second, r.second);
      else
        merged.push_back(r);
    }
    ranges = std::move(merged);
    fast.fill(0);
    for (char32_t c = 0; c < kFastLimit; ++c)
      if (test_slow(c)) set_bit(fast, c);
  }
};

// Syntax tree.
struct Node {
  enum class Kind { Empty, Char, Class, Concat, Alt, Repeat, Look, Atomic } kind = Kind::Empty;
  char32_t ch = 0;  // Char (already folded when icase)
  bool icase = false;
  uint32_t cls = 0;  // Class
  std::vector<Node> kids;
  uint32_t min = 0, max = 0;  // Repeat
  bool greedy = true, possessive = false;
  bool negate = false;  // Look
};

bool nullable(const Node& n) {
  switch (n.kind) {
    case Node::Kind::Empty: return true;
    case Node::Kind::Char:
    case Node::Kind::Class: return false;
    case Node::Kind::Concat: return std::all_of(n.kids.begin(), n.kids.end(), nullable);
    case Node::Kind::Alt: return std::any_of(n.kids.begin(), n.kids.end(), nullable);
    case Node::Kind::Repeat: return n.min == 0 || nullable(n.kids[0]);
    case Node::Kind::Look: return true;
    case Node::Kind::Atomic: return nullable(n.kids[0]);
  }
  return true;
}

// A set of code points described by properties (for \s, \d, \w, \p{..} and their negations).
struct PropSet {
  uint32_t mask = 0;
  bool negated = false;
};

uint32_t cat_bit(GeneralCategory c) { return 1u << static_cast<uint32_t>(c); }

// Looks up a property name with loose matching (case, '_', '-' and ' ' ignored); 0 when unknown.
uint32_t property_mask(std::string name) {
  std::string key;
  for (char c : name)
    if (c != '_' && c != '-' && c != ' ') key.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  using G = GeneralCategory;
  struct Entry {
    const char* name;
    uint32_t mask;
  };
  const uint32_t L = kPropLetter, M = kPropMark, N = kPropNumber;
  const uint32_t P = cat_bit(G::Pc) | cat_bit(G::Pd) | cat_bit(G::Ps) | cat_bit(G::Pe) | cat_bit(G::Pi) |
                     cat_bit(G::Pf) | cat_bit(G::Po);
  const uint32_t S = cat_bit(G::Sm) | cat_bit(G::Sc) | cat_bit(G::Sk) | cat_bit(G::So);
  const uint32_t Z = cat_bit(G::Zs) | cat_bit(G::Zl) | cat_bit(G::Zp);
  const uint32_t C = cat_bit(G::Cn) | cat_bit(G::Cc) | cat_bit(G::Cf) | cat_bit(G::Cs) | cat_bit(G::Co);
  const Entry table[] = {
      {"l", L}, {"letter", L}, {"m", M}, {"mark", M}, {"combiningmark", M}, {"n", N}, {"number", N},
      {"p", P}, {"punctuation", P}, {"punct", P}, {"s", S}, {"symbol", S}, {"z", Z}, {"separator", Z},
      {"c", C}, {"other", C},
      {"lu", cat_bit(G::Lu)}, {"uppercaseletter", cat_bit(G::Lu)}, {"ll", cat_bit(G::Ll)},
      {"lowercaseletter", cat_bit(G::Ll)}, {"lt", cat_bit(G::Lt)}, {"titlecaseletter", cat_bit(G::Lt)},
      {"lc", cat_bit(G::Lu) | cat_bit(G::Ll) | cat_bit(G::Lt)},
      {"casedletter", cat_bit(G::Lu) | cat_bit(G::Ll) | cat_bit(G::Lt)},
      {"lm", cat_bit(G::Lm)}, {"modifierletter", cat_bit(G::Lm)}, {"lo", cat_bit(G::Lo)},
      {"otherletter", cat_bit(G::Lo)}, {"mn", cat_bit(G::Mn)}, {"nonspacingmark", cat_bit(G::Mn)},
      {"mc", cat_bit(G::Mc)}, {"spacingmark", cat_bit(G::Mc)}, {"me", cat_bit(G::Me)},
      {"enclosingmark", cat_bit(G::Me)}, {"nd", cat_bit(G::Nd)}, {"decimalnumber", cat_bit(G::Nd)},
      {"digit", cat_bit(G::Nd)}, {"nl", cat_bit(G::Nl)}, {"letternumber", cat_bit(G::Nl)},
      {"no", cat_bit(G::No)}, {"othernumber", cat_bit(G::No)}, {"pc", cat_bit(G::Pc)},
      {"connectorpunctuation", cat_bit(G::Pc)}, {"pd", cat_bit(G::Pd)}, {"dashpunctuation", cat_bit(G::Pd)},
      {"ps", cat_bit(G::Ps)}, {"openpunctuation", cat_bit(G::Ps)}, {"pe", cat_bit(G::Pe)},
      {"closepunctuation", cat_bit(G::Pe)}, {"pi", cat_bit(G::Pi)}, {"initialpunctuation", cat_bit(G::Pi)},
      {"pf", cat_bit(G::Pf)}, {"finalpunctuation", cat_bit(G::Pf)}, {"po", cat_bit(G::Po)},
      {"otherpunctuation", cat_bit(G::Po)}, {"sm", cat_bit(G::Sm)}, {"mathsymbol", cat_bit(G::Sm)},
      {"sc", cat_bit(G::Sc)}, {"currencysymbol", cat_bit(G::Sc)}, {"sk", cat_bit(G::Sk)},
      {"modifiersymbol", cat_bit(G::Sk)}, {"so", cat_bit(G::So)}, {"othersymbol", cat_bit(G::So)},
      {"zs", cat_bit(G::Zs)}, {"spaceseparator", cat_bit(G::Zs)}, {"zl", cat_bit(G::Zl)},
      {"lineseparator", cat_bit(G::Zl)}, {"zp", cat_bit(G::Zp)}, {"paragraphseparator", cat_bit(G::Zp)},
      {"cc", cat_bit(G::Cc)}, {"control", cat_bit(G::Cc)}, {"cntrl", cat_bit(G::Cc)}, {"cf", cat_bit(G::Cf)},
      {"format", cat_bit(G::Cf)}, {"cs", cat_bit(G::Cs)}, {"surrogate", cat_bit(G::Cs)},
      {"co", cat_bit(G::Co)}, {"privateuse", cat_bit(G::Co)}, {"cn", cat_bit(G::Cn)},
      {"unassigned", cat_bit(G::Cn)}, {"whitespace", kPropWhiteSpace}, {"wspace", kPropWhiteSpace},
      {"space", kPropWhiteSpace},
  };
  for (const auto& e : table)
    if (key == e.name) return e.mask;
  return 0;
}

class Parser {
 public:
  Parser(std::string_view pattern, std::vector<CharClass>& classes) : source_(pattern), classes_(classes) {
    utf8_to_cpts(pattern, p_);
  }

  Node parse() {
    Node n = parse_alt();
    if (i_ < p_.size()) fail("unmatched ')'");
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw RegexError("regex " + quoted() + ": " + what + " at character " + std::to_string(i_));
  }
  std::string quoted() const { return "\"" + source_ + "\""; }
  bool at(char32_t c) const { return i_ < p_.size() && p_[i_] == c; }

  Node parse_alt() {
    Node first = parse_concat();
    if (!at('|')) return first;
    Node alt;
    alt.kind = Node::Kind::Alt;
    alt.kids.push_back(std::move(first));
    while (at('|')) {
      ++i_;
      alt.kids.push_back(parse_concat());
    }
    return alt;
  }

  Node parse_concat() {
    Node seq;
    seq.kind = Node::Kind::Concat;
    while (i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') {
      Node atom;
      if (!parse_atom(atom)) continue;  // an inline flag group such as (?i)
      parse_quantifiers(atom);
      seq.kids.push_back(std::move(atom));
    }
    if (seq.kids.size() == 1) return std::move(seq.kids[0]);
    if (seq.kids.empty()) return Node{};
    return seq;
  }

  // Parses {m}, {m,}, {m,n} at i_ (which is at '{'); false (i_ unchanged) when it is not a quantifier.
  bool parse_counted(uint32_t& min, uint32_t& max) {
    size_t j = i_ + 1;
    auto number = [&](uint32_t& v) {
      size_t start = j;
      uint64_t x = 0;
      while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9') {
        x = x * 10 + (p_[j] - '0');
        if (x > kMaxCount) fail("repetition count above " + std::to_string(kMaxCount));
        ++j;
      }
      v = static_cast<uint32_t>(x);
      return j > start;
    };
    uint32_t lo = 0, hi = 0;
    bool has_lo = number(lo);
    if (j < p_.size() && p_[j] == '}') {
      if (!has_lo) return false;
      min = max = lo;
    } else if (j < p_.size() && p_[j] == ',') {
      ++j;
      bool has_hi = number(hi);
      if (j >= p_.size() || p_[j] != '}') return false;
      if (!has_lo) lo = 0;  // {,n} is {0,n} in Oniguruma
      if (!has_lo && !has_hi) return false;
      min = lo;
      max = has_hi ? hi : kInf;
      if (max < min) fail("repetition bounds out of order");
    } else {
      return false;
    }
    i_ = j + 1;
    return true;
  }

  void parse_quantifiers(Node& atom) {
    for (;;) {
      uint32_t min, max;
      bool counted = false;
      if (at('?')) {
        min = 0, max = 1;
      } else if (at('*')) {
        min = 0, max = kInf;
      } else if (at('+')) {
        min = 1, max = kInf;
      } else if (at('{')) {
        if (!parse_counted(min, max)) return;
        counted = true;
      } else {
        return;
      }
      if (!counted) ++i_;
      Node rep;
      rep.kind = Node::Kind::Repeat;
      rep.min = min;
      rep.max = max;
      if (at('?')) {
        rep.greedy = false;
        ++i_;
      } else if (at('+') && !counted) {  // possessive (Ruby syntax: {m,n}+ is a nested repeat instead)
        rep.possessive = true;
        ++i_;
      }
      if (atom.kind == Node::Kind::Look) fail("quantifier after a lookahead");
      rep.kids.push_back(std::move(atom));
      atom = std::move(rep);
    }
  }

  Node make_class(CharClass cc) {
    cc.finalize();
    classes_.push_back(std::move(cc));
    Node n;
    n.kind = Node::Kind::Class;
    n.cls = static_cast<uint32_t>(classes_.size() - 1);
    return n;
  }

  Node make_char(char32_t c) {
    Node n;
    n.kind = Node::Kind::Char;
    n.ch = c;
    if (icase_) {
      // Characters with case variants compare by simple case folding ('s' matches 'S' and U+017F).
      const uint32_t cased = kPropLetter | cat_bit(GeneralCategory::Nl) | cat_bit(GeneralCategory::So);
      char32_t f = fold(c);
      if (f != c || (unicode_props(c) & cased)) {
        n.icase = true;
        n.ch = f;
      }
    }
    return n;
  }

  // Returns false for an inline flag group that produces no node.
  bool parse_atom(Node& out) {
    char32_t c = p_[i_];
    switch (c) {
      case '(': return parse_group(out);
      case '[':
        out = make_class(parse_class());
        return true;
      case '.': {
        ++i_;
        CharClass cc;
        cc.negated = true;
        cc.add_range('\n', '\n');
        out = make_class(std::move(cc));
        return true;
      }
      case '\\': {
        ++i_;
        Escape e = parse_escape(false);
        if (e.is_char) {
          out = make_char(e.ch);
        } else {
          CharClass cc;
          add_set(cc, e.set);
          out = make_class(std::move(cc));
        }
        return true;
      }
      case '^':
      case '$': fail("anchors are not supported");
      case '*':
      case '+':
      case '?': fail("quantifier without anything to repeat");
      case '{': {
        uint32_t a, b;
        size_t save = i_;
        if (parse_counted(a, b)) {
          i_ = save;
          fail("quantifier without anything to repeat");
        }
        ++i_;
        out = make_char('{');
        return true;
      }
      default:
        ++i_;
        out = make_char(c);
        return true;
    }
  }

  bool parse_group(Node& out) {
    if (++depth_ > kMaxDepth) fail("groups nested more than " + std::to_string(kMaxDepth) + " deep");
    ++i_;  // '('
    bool saved_icase = icase_;
    Node::Kind kind = Node::Kind::Concat;  // plain group
    bool negate = false;
    if (at('?')) {
      ++i_;
      if (i_ >= p_.size()) fail("unterminated group");
      char32_t c = p_[i_];
      if (c == ':') {
        ++i_;
      } else if (c == '=' || c == '!') {
        kind = Node::Kind::Look;
        negate = c == '!';
        ++i_;
      } else if (c == '>') {
        kind = Node::Kind::Atomic;
        ++i_;
      } else if (c == '<' && i_ + 1 < p_.size() && (p_[i_ + 1] == '=' || p_[i_ + 1] == '!')) {
        fail("lookbehind is not supported");
      } else if (c == '<' || c == 'P') {
        // Named capture group: (?<name>...) or (?P<name>...); captures are irrelevant for splitting.
        if (c == 'P') ++i_;
        if (!at('<')) fail("unsupported group syntax");
        while (i_ < p_.size() && p_[i_] != '>') ++i_;
        if (!at('>')) fail("unterminated group name");
        ++i_;
      } else {
        bool on = true, any = false;
        bool flag_icase = icase_;
        while (i_ < p_.size() && p_[i_] != ':' && p_[i_] != ')') {
          char32_t f = p_[i_];
          if (f == '-') {
            on = false;
          } else if (f == 'i') {
            flag_icase = on;
          } else {
            fail("unsupported group flag '" + cpts_to_utf8(std::u32string(1, f)) + "' (supported: i)");
          }
          any = true;
          ++i_;
        }
        if (!any || i_ >= p_.size()) fail("unsupported group syntax");
        if (p_[i_] == ')') {  // (?i): applies to the rest of the enclosing group
          ++i_;
          --depth_;
          icase_ = flag_icase;
          return false;
        }
        ++i_;  // ':'
        icase_ = flag_icase;
      }
    }
    Node inner = parse_alt();
    if (!at(')')) fail("missing ')'");
    ++i_;
    --depth_;
    icase_ = saved_icase;
    if (kind == Node::Kind::Concat) {
      out = std::move(inner);
    } else {
      out = Node{};
      out.kind = kind;
      out.negate = negate;
      out.kids.push_back(std::move(inner));
    }
    return true;
  }

  struct Escape {
    bool is_char = true;
    char32_t ch = 0;
    PropSet set;
  };

  uint32_t parse_hex(size_t max_digits, bool braced) {
    uint32_t v = 0;
    size_t digits = 0;
    while (i_ < p_.size() && (braced || digits < max_digits)) {
      char32_t c = p_[i_];
      uint32_t d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else break;
      v = v * 16 + d;
      if (v > 0x10FFFF) fail("code point out of range");
      ++digits;
      ++i_;
    }
    if (digits == 0) fail("missing hexadecimal digits");
    if (braced) {
      if (!at('}')) fail("missing '}'");
      ++i_;
    }
    return v;
  }

  // Parses the escape after a backslash (i_ is past the backslash).
  Escape parse_escape(bool in_class) {
    if (i_ >= p_.size()) fail("pattern ends with a backslash");
    char32_t c = p_[i_++];
    Escape e;
    auto set = [&](uint32_t mask, bool neg) {
      e.is_char = false;
      e.set = {mask, neg};
      return e;
    };
    const uint32_t word = kPropLetter | kPropMark | cat_bit(GeneralCategory::Nd) | cat_bit(GeneralCategory::Pc);
    switch (c) {
      case 'n': e.ch = '\n'; return e;
      case 'r': e.ch = '\r'; return e;
      case 't': e.ch = '\t'; return e;
      case 'f': e.ch = '\f'; return e;
      case 'v': e.ch = '\v'; return e;
      case 'a': e.ch = 0x07; return e;
      case 'e': e.ch = 0x1B; return e;
      case '0': e.ch = 0; return e;
      case 'x':
        if (at('{')) {
          ++i_;
          e.ch = parse_hex(8, true);
        } else {
          e.ch = parse_hex(2, false);
        }
        return e;
      case 'u': e.ch = parse_hex(4, false); return e;
      case 's': return set(kPropWhiteSpace, false);
      case 'S': return set(kPropWhiteSpace, true);
      case 'd': return set(cat_bit(GeneralCategory::Nd), false);
      case 'D': return set(cat_bit(GeneralCategory::Nd), true);
      case 'w': return set(word, false);
      case 'W': return set(word, true);
      case 'p':
      case 'P': {
        bool neg = c == 'P';
        std::string name;
        if (at('{')) {
          ++i_;
          if (at('^')) {
            neg = !neg;
            ++i_;
          }
          while (i_ < p_.size() && p_[i_] != '}') name += static_cast<char>(p_[i_++] & 0x7F);
          if (!at('}')) fail("unterminated \\p{...}");
          ++i_;
        } else if (i_ < p_.size()) {
          name = static_cast<char>(p_[i_++] & 0x7F);
        }
        uint32_t mask = property_mask(name);
        if (mask == 0)
          fail("unsupported property \\p{" + name +
               "} (supported: general categories such as L, Lu, N, Nd, P, S, Z and White_Space)");
        return set(mask, neg);
      }
      case 'b':
        if (in_class) {
          e.ch = 0x08;
          return e;
        }
        fail("anchors are not supported");
      case 'B':
      case 'A':
      case 'z':
      case 'Z':
      case 'G': fail("anchors are not supported");
      default: break;
    }
    if (c >= '1' && c <= '9') fail("backreferences are not supported");
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) fail("unsupported escape \\" + std::string(1, char(c)));
    e.ch = c;  // escaped punctuation or other literal
    return e;
  }

  void add_set(CharClass& cc, const PropSet& s) {
    if (s.negated)
      cc.neg_props.push_back(s.mask);
    else
      cc.props |= s.mask;
  }

  CharClass parse_class() {
    ++i_;  // '['
    CharClass cc;
    cc.icase = icase_;
    if (at('^')) {
      cc.negated = true;
      ++i_;
    }
    bool first = true;
    for (;;) {
      if (i_ >= p_.size()) fail("unterminated character class");
      char32_t c = p_[i_];
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      if (c == '[') fail("nested character classes are not supported");
      if (c == '&' && i_ + 1 < p_.size() && p_[i_ + 1] == '&') fail("class intersection (&&) is not supported");
      first = false;
      char32_t lo;
      if (!class_atom(cc, lo)) continue;
      if (at('-') && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        char32_t hi;
        if (!class_atom(cc, hi)) fail("a class range ends in a set");
        if (hi < lo) fail("class range out of order");
        cc.add_range(lo, hi);
      } else {
        cc.add_range(lo, lo);
      }
    }
    return cc;
  }

  // One class member: a character (returned in c, true) or a set added to cc (false).
  bool class_atom(CharClass& cc, char32_t& c) {
    if (p_[i_] != '\\') {
      c = p_[i_++];
      return true;
    }
    ++i_;
    Escape e = parse_escape(true);
    if (e.is_char) {
      c = e.ch;
      return true;
    }
    add_set(cc, e.set);
    return false;
  }

  std::string source_;
  std::u32string p_;
  size_t i_ = 0;
  int depth_ = 0;
  bool icase_ = false;
  std::vector<CharClass>& classes_;
};

enum class Op : uint8_t { Char, CharFold, Class, Repeat, Split, Jmp, Look, Atomic, Match };
enum class Atom : uint8_t { Char, CharFold, Class };

struct Inst {
  Op op = Op::Match;
  Atom atom = Atom::Char;  // Repeat: what is repeated
  bool flag = false;       // Repeat: possessive; Look: negative
  char32_t a = 0;          // character or class index
  uint32_t min = 0, max = 0;
  int32_t x = 0, y = 0;    // Split: preferred, alternative; Jmp: target; Look/Atomic: continuation in y
};

struct Frame {
  int32_t pc;
  bool repeat;  // a single-character loop that backs off one character per retry
  size_t pos;
  size_t lo;  // repeat: the lowest position it may back off to
};

// The first characters an entry can start with.
struct FirstSet {
  bool any = false;
  Bitmap fast{};
  std::vector<std::pair<Atom, char32_t>> atoms;
};

}  // namespace

struct Regex::Program {
  std::string pattern;
  std::vector<CharClass> classes;
  std::vector<Inst> code;
  struct Entry {
    int32_t pc;
    FirstSet first;
  };
  std::vector<Entry> entries;

  bool test(Atom kind, char32_t a, char32_t c) const {
    switch (kind) {
      case Atom::Char: return c == a;
      case Atom::CharFold: return c == a || fold(c) == a;
      case Atom::Class: return classes[a].test(c);
    }
    return false;
  }

  bool may_start(const FirstSet& f, char32_t c) const {
    if (f.any) return true;
    if (c < kFastLimit) return bit(f.fast, c);
    for (auto [kind, a] : f.atoms)
      if (test(kind, a, c)) return true;
    return false;
  }

  // Runs from pc at pos; on success sets end and returns true. Frames above the entry size are its own.
  bool run(const char32_t* s, size_t n, int32_t pc, size_t pos, size_t& end, std::vector<Frame>& stack) const {
    const size_t base = stack.size();
    const Inst* prog = code.data();
    for (;;) {
      const Inst& in = prog[pc];
      switch (in.op) {
        case Op::Char:
          if (pos < n && s[pos] == in.a) {
            ++pos;
            ++pc;
            continue;
          }
          break;
        case Op::CharFold:
          if (pos < n && (s[pos] == in.a || fold(s[pos]) == in.a)) {
            ++pos;
            ++pc;
            continue;
          }
          break;
        case Op::Class:
          if (pos < n && classes[in.a].test(s[pos])) {
            ++pos;
            ++pc;
            continue;
          }
          break;
        case Op::Repeat: {
          const size_t start = pos;
          const size_t limit = in.max == kInf ? n : std::min(n, pos + in.max);
          switch (in.atom) {
            case Atom::Class: {
              const CharClass& cc = classes[in.a];
              while (pos < limit && cc.test(s[pos])) ++pos;
              break;
            }
            case Atom::Char:
              while (pos < limit && s[pos] == in.a) ++pos;
              break;
            case Atom::CharFold:
              while (pos < limit && (s[pos] == in.a || fold(s[pos]) == in.a)) ++pos;
              break;
          }
          if (pos - start < in.min) break;
          if (!in.flag && pos > start + in.min) stack.push_back({pc + 1, true, pos, start + in.min});
          ++pc;
          continue;
        }
        case Op::Split:
          stack.push_back({in.y, false, pos, 0});
          pc = in.x;
          continue;
        case Op::Jmp:
          pc = in.x;
          continue;
        case Op::Look: {
          size_t e;
          if (run(s, n, pc + 1, pos, e, stack) != in.flag) {
            pc = in.y;
            continue;
          }
          break;
        }
        case Op::Atomic: {
          size_t e;
          if (run(s, n, pc + 1, pos, e, stack)) {
            pos = e;
            pc = in.y;
            continue;
          }
          break;
        }
        case Op::Match:
          end = pos;
          stack.resize(base);
          return true;
      }
      // Failure: resume the most recent choice point.
      if (stack.size() == base) return false;
      Frame& f = stack.back();
      pc = f.pc;
      if (f.repeat) {
        pos = --f.pos;
        if (f.pos == f.lo) stack.pop_back();
      } else {
        pos = f.pos;
        stack.pop_back();
      }
    }
  }
};

namespace {

class Compiler {
 public:
  explicit Compiler(Regex::Program& p) : p_(p) {}

  void compile(const Node& root) {
    std::vector<const Node*> alts;
    if (root.kind == Node::Kind::Alt)
      for (const Node& k : root.kids) alts.push_back(&k);
    else
      alts.push_back(&root);
    for (const Node* alt : alts) {
      Regex::Program::Entry entry;
      entry.pc = static_cast<int32_t>(p_.code.size());
      emit(*alt);
      push({.op = Op::Match});
      bool empty_ok = first(*alt, entry.first);
      if (empty_ok) entry.first.any = true;
      if (!entry.first.any)
        for (char32_t c = 0; c < kFastLimit; ++c)
          for (auto [kind, a] : entry.first.atoms)
            if (p_.test(kind, a, c)) {
              set_bit(entry.first.fast, c);
              break;
            }
      p_.entries.push_back(std::move(entry));
    }
  }

 private:
  int32_t push(Inst in) {
    if (p_.code.size() >= kMaxProgram) throw RegexError("regex \"" + p_.pattern + "\": pattern too large");
    p_.code.push_back(in);
    return static_cast<int32_t>(p_.code.size() - 1);
  }
  int32_t here() const { return static_cast<int32_t>(p_.code.size()); }

  // Adds the atoms an expression can start with; returns whether it can match the empty string.
  bool first(const Node& n, FirstSet& f) {
    switch (n.kind) {
      case Node::Kind::Empty: return true;
      case Node::Kind::Char:
        f.atoms.emplace_back(n.icase ? Atom::CharFold : Atom::Char, n.ch);
        return false;
      case Node::Kind::Class:
        f.atoms.emplace_back(Atom::Class, n.cls);
        return false;
      case Node::Kind::Concat:
        for (const Node& k : n.kids)
          if (!first(k, f)) return false;
        return true;
      case Node::Kind::Alt: {
        bool any_empty = false;
        for (const Node& k : n.kids) any_empty = first(k, f) || any_empty;
        return any_empty;
      }
      case Node::Kind::Repeat: return first(n.kids[0], f) || n.min == 0;
      case Node::Kind::Look: f.any = true; return true;
      case Node::Kind::Atomic: return first(n.kids[0], f);
    }
    return true;
  }

  void emit(const Node& n) {
    switch (n.kind) {
      case Node::Kind::Empty: return;
      case Node::Kind::Char:
        push({.op = n.icase ? Op::CharFold : Op::Char, .a = n.ch});
        return;
      case Node::Kind::Class:
        push({.op = Op::Class, .a = n.cls});
        return;
      case Node::Kind::Concat:
        for (const Node& k : n.kids) emit(k);
        return;
      case Node::Kind::Alt: {
        std::vector<int32_t> jumps;
        for (size_t k = 0; k < n.kids.size(); ++k) {
          if (k + 1 == n.kids.size()) {
            emit(n.kids[k]);
            break;
          }
          int32_t split = push({.op = Op::Split});
          p_.code[split].x = split + 1;
          emit(n.kids[k]);
          jumps.push_back(push({.op = Op::Jmp}));
          p_.code[split].y = here();
        }
        for (int32_t j : jumps) p_.code[j].x = here();
        return;
      }
      case Node::Kind::Repeat: emit_repeat(n); return;
      case Node::Kind::Look:
      case Node::Kind::Atomic: {
        int32_t at = push({.op = n.kind == Node::Kind::Look ? Op::Look : Op::Atomic, .flag = n.negate});
        emit(n.kids[0]);
        push({.op = Op::Match});
        p_.code[at].y = here();
        return;
      }
    }
  }

  void emit_repeat(const Node& n) {
    const Node& kid = n.kids[0];
    if (n.greedy && (kid.kind == Node::Kind::Char || kid.kind == Node::Kind::Class)) {
      Inst in{.op = Op::Repeat, .flag = n.possessive, .min = n.min, .max = n.max};
      if (kid.kind == Node::Kind::Class) {
        in.atom = Atom::Class;
        in.a = kid.cls;
      } else {
        in.atom = kid.icase ? Atom::CharFold : Atom::Char;
        in.a = kid.ch;
      }
      push(in);
      return;
    }
    if (n.possessive) {
      Node atomic;
      atomic.kind = Node::Kind::Atomic;
      Node inner = n;
      inner.possessive = false;
      atomic.kids.push_back(std::move(inner));
      emit(atomic);
      return;
    }
    if (n.max == kInf && nullable(kid))
      throw RegexError("regex \"" + p_.pattern + "\": a repeated group that can match the empty string is not supported");
    for (uint32_t k = 0; k < n.min; ++k) emit(kid);
    if (n.max == kInf) {
      int32_t split = push({.op = Op::Split});
      emit(kid);
      push({.op = Op::Jmp, .x = split});
      set_split(split, n.greedy, here());
      return;
    }
    std::vector<int32_t> splits;
    for (uint32_t k = n.min; k < n.max; ++k) {
      splits.push_back(push({.op = Op::Split}));
      emit(kid);
    }
    for (int32_t s : splits) set_split(s, n.greedy, here());
  }

  void set_split(int32_t split, bool greedy, int32_t exit) {
    p_.code[split].x = greedy ? split + 1 : exit;
    p_.code[split].y = greedy ? exit : split + 1;
  }

  Regex::Program& p_;
};

}  // namespace

Regex::Regex(std::string_view pattern) {
  auto prog = std::make_shared<Program>();
  prog->pattern = std::string(pattern);
  Parser parser(pattern, prog->classes);
  Node root = parser.parse();
  Compiler(*prog).compile(root);
  program_ = std::move(prog);
}

const std::string& Regex::pattern() const { return program_->pattern; }

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::u32string_view text) const {
  std::vector<std::pair<size_t, size_t>> out;
  find_all(text, out);
  return out;
}

void Regex::find_all(std::u32string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  thread_local std::vector<Frame> stack;
  const Program& p = *program_;
  const char32_t* s = text.data();
  const size_t n = text.size();
  size_t pos = 0;
  while (pos < n) {
    const char32_t c = s[pos];
    size_t end = npos;
    for (const Program::Entry& e : p.entries) {
      if (!p.may_start(e.first, c)) continue;
      size_t e_end;
      if (p.run(s, n, e.pc, pos, e_end, stack)) {
        end = e_end;
        break;
      }
    }
    if (end == npos || end == pos) {
      ++pos;
      continue;
    }
    out.emplace_back(pos, end);
    pos = end;
  }
}

size_t Regex::match_at(std::u32string_view text, size_t pos) const {
  thread_local std::vector<Frame> stack;
  const Program& p = *program_;
  if (pos > text.size()) return npos;
  for (const Program::Entry& e : p.entries) {
    if (pos < text.size() && !p.may_start(e.first, text[pos])) continue;
    if (pos == text.size() && !e.first.any) continue;
    size_t end;
    if (p.run(text.data(), text.size(), e.pc, pos, end, stack)) return end;
  }
  return npos;
}

}  // namespace chorus::inference
