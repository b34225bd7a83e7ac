// Jinja lexer. Whitespace control follows Jinja2: "-" strips all whitespace on that side of a tag, "+" turns
// lstrip_blocks / trim_blocks off for that side, lstrip_blocks removes spaces and tabs between a line start
// and a {% or {# tag, trim_blocks removes one newline right after %} or #}.
#include "inference/jinja-lexer.h"

#include <algorithm>
#include <cstdint>

#include "inference/jinja-strings.h"

namespace chorus::inference::jinja {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  Lexer(const std::string& source, const LexerOptions& options) : options_(options) {
    // Like Jinja2: every newline sequence becomes "\n", and one trailing newline goes.
    src_.reserve(source.size());
    for (size_t k = 0; k < source.size(); ++k) {
      if (source[k] == '\r') {
        src_ += '\n';
        if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
      } else {
        src_ += source[k];
      }
    }
    if (!options_.keep_trailing_newline && !src_.empty() && src_.back() == '\n') src_.pop_back();
    line_starts_.push_back(0);
    for (size_t k = 0; k < src_.size(); ++k) {
      if (src_[k] == '\n') line_starts_.push_back(k + 1);
    }
  }

  std::vector<Token> run() {
    const size_t n = src_.size();
    while (true) {
      const size_t tag = find_tag(pos_);
      if (tag == n) {
        emit_text(pos_, n, 0, 0);
        break;
      }
      const char kind = src_[tag + 1];
      const char mod = tag + 2 < n ? src_[tag + 2] : '\0';
      emit_text(pos_, tag, kind, mod);
      if (kind == '#') {
        lex_comment(tag, mod);
        continue;
      }
      lex_tag(tag, kind, mod);
    }
    tokens_.push_back({TokenKind::kEnd, "", pos_at(n)});
    return std::move(tokens_);
  }

 private:
  enum class After { kNothing, kStripAll, kTrimNewline };

  SourcePos pos_at(size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());
    return {static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
  }

  [[noreturn]] void fail(size_t offset, const std::string& problem) const {
    throw TemplateError(pos_at(offset), problem);
  }

  // The next "{{", "{%" or "{#" at or after `from`, or the end.
  size_t find_tag(size_t from) const {
    for (size_t k = from; k + 1 < src_.size(); ++k) {
      if (src_[k] == '{' && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#')) return k;
    }
    return src_.size();
  }

  // Text [begin, end) before a tag of `kind` ('{', '%', '#'; 0 for the template end) with modifier `mod`,
  // after the previous tag's and this tag's whitespace control.
  std::string take_text(size_t begin, size_t end, char kind, char mod) {
    if (after_ == After::kStripAll) {
      while (begin < end && is_space(src_[begin])) ++begin;
    } else if (after_ == After::kTrimNewline && begin < end && src_[begin] == '\n') {
      ++begin;
    }
    after_ = After::kNothing;
    if (kind == 0) return src_.substr(begin, end - begin);
    if (mod == '-') {
      while (end > begin && is_space(src_[end - 1])) --end;
    } else if (mod != '+' && options_.lstrip_blocks && (kind == '%' || kind == '#')) {
      size_t k = end;
      while (k > begin && (src_[k - 1] == ' ' || src_[k - 1] == '\t')) --k;
      if (k == 0 || src_[k - 1] == '\n') end = k;
    }
    return src_.substr(begin, end - begin);
  }

  void emit_text(size_t begin, size_t end, char kind, char mod) {
    std::string text = take_text(begin, end, kind, mod);
    if (!text.empty()) tokens_.push_back({TokenKind::kText, std::move(text), pos_at(begin)});
  }

  void lex_comment(size_t tag, char mod) {
    size_t from = tag + 2 + ((mod == '-' || mod == '+') ? 1 : 0);
    size_t end = src_.find("#}", from);
    if (end == std::string::npos) fail(tag, "unclosed comment (missing '#}')");
    const char close_mod = end > from ? src_[end - 1] : '\0';
    set_after(close_mod);
    pos_ = end + 2;
  }

  void set_after(char close_mod) {
    if (close_mod == '-') {
      after_ = After::kStripAll;
    } else if (close_mod != '+' && options_.trim_blocks) {
      after_ = After::kTrimNewline;
    } else {
      after_ = After::kNothing;
    }
  }

  void lex_tag(size_t tag, char kind, char mod) {
    const bool block = kind == '%';
    const size_t first_token = tokens_.size();
    tokens_.push_back(
        {block ? TokenKind::kBlockBegin : TokenKind::kVariableBegin, block ? "{%" : "{{", pos_at(tag)});
    size_t p = tag + 2;
    if (mod == '-' || (block && mod == '+')) ++p;
    std::string brackets;  // open ( [ { inside this tag
    const size_t n = src_.size();
    while (true) {
      while (p < n && is_space(src_[p])) ++p;
      if (p >= n) fail(tag, block ? "unclosed tag '{%' (missing '%}')" : "unclosed tag '{{' (missing '}}')");
      if (block) {
        const bool minus = src_.compare(p, 3, "-%}") == 0;
        const bool plus = src_.compare(p, 3, "+%}") == 0;
        if (minus || plus || src_.compare(p, 2, "%}") == 0) {
          tokens_.push_back({TokenKind::kBlockEnd, "%}", pos_at(p)});
          if (minus) {
            after_ = After::kStripAll;
          } else if (plus || !options_.trim_blocks) {
            after_ = After::kNothing;
          } else {
            after_ = After::kTrimNewline;
          }
          p += (minus || plus) ? 3 : 2;
          break;
        }
      } else if (brackets.empty() || brackets.back() != '{') {
        // "}}" ends the tag unless it may close a dict literal; a stray "(" or "[" is left for the parser.
        const bool minus = src_.compare(p, 3, "-}}") == 0;
        if (minus || src_.compare(p, 2, "}}") == 0) {
          tokens_.push_back({TokenKind::kVariableEnd, "}}", pos_at(p)});
          after_ = minus ? After::kStripAll : After::kNothing;
          p += minus ? 3 : 2;
          break;
        }
      }
      p = lex_token(p, brackets);
    }
    pos_ = p;
    if (block && tokens_.size() == first_token + 3 && tokens_[first_token + 1].kind == TokenKind::kName &&
        tokens_[first_token + 1].text == "raw") {
      tokens_.resize(first_token);
      lex_raw(tag);
    }
  }

  // After "{% raw %}": everything up to "{% endraw %}" is text.
  void lex_raw(size_t raw_tag) {
    const size_t n = src_.size();
    for (size_t k = pos_; k + 1 < n; ++k) {
      if (src_[k] != '{' || src_[k + 1] != '%') continue;
      size_t p = k + 2;
      const char mod = p < n ? src_[p] : '\0';
      if (mod == '-' || mod == '+') ++p;
      while (p < n && is_space(src_[p])) ++p;
      if (src_.compare(p, 6, "endraw") != 0) continue;
      p += 6;
      while (p < n && is_space(src_[p])) ++p;
      char close_mod = '\0';
      if (p < n && (src_[p] == '-' || src_[p] == '+')) close_mod = src_[p++];
      if (src_.compare(p, 2, "%}") != 0) continue;
      emit_text(pos_, k, '%', mod);
      set_after(close_mod);
      pos_ = p + 2;
      return;
    }
    fail(raw_tag, "unclosed 'raw' block (missing '{% endraw %}')");
  }

  // One token inside a tag starting at `p` (not whitespace); returns the offset after it.
  size_t lex_token(size_t p, std::string& brackets) {
    const char c = src_[p];
    const SourcePos at = pos_at(p);
    if (is_name_start(c)) {
      size_t e = p;
      while (e < src_.size() && is_name_char(src_[e])) ++e;
      tokens_.push_back({TokenKind::kName, src_.substr(p, e - p), at});
      return e;
    }
    if (is_digit(c)) return lex_number(p);
    if (c == '\'' || c == '"') return lex_string(p);
    static const char* const kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : kTwo) {
      if (src_.compare(p, 2, op) == 0) {
        tokens_.push_back({TokenKind::kOperator, op, at});
        return p + 2;
      }
    }
    static const std::string kOne = "+-*/%~<>=()[]{},.:|";
    if (kOne.find(c) != std::string::npos) {
      if (c == '(' || c == '[' || c == '{') brackets += c;
      if ((c == ')' || c == ']' || c == '}') && !brackets.empty()) brackets.pop_back();
      tokens_.push_back({TokenKind::kOperator, std::string(1, c), at});
      return p + 1;
    }
    fail(p, "unexpected character '" + utf8_chars(src_.substr(p, 4)).front() + "'");
  }

  size_t lex_number(size_t p) {
    const SourcePos at = pos_at(p);
    const size_t n = src_.size();
    std::string text;
    size_t e = p;
    auto digits = [&] {
      while (e < n && (is_digit(src_[e]) || (src_[e] == '_' && e + 1 < n && is_digit(src_[e + 1])))) {
        if (src_[e] != '_') text += src_[e];
        ++e;
      }
    };
    digits();
    bool is_float = false;
    if (e + 1 < n && src_[e] == '.' && is_digit(src_[e + 1])) {
      is_float = true;
      text += '.';
      ++e;
      digits();
    }
    if (e < n && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t k = e + 1;
      if (k < n && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < n && is_digit(src_[k])) {
        is_float = true;
        text += 'e';
        if (src_[e + 1] == '-') text += '-';
        e = k;
        digits();
      }
    }
    tokens_.push_back({is_float ? TokenKind::kFloat : TokenKind::kInteger, text, at});
    return e;
  }

  size_t lex_string(size_t p) {
    const char quote = src_[p];
    const size_t n = src_.size();
    std::string value;
    size_t e = p + 1;
    while (true) {
      if (e >= n) fail(p, "unterminated string literal");
      const char c = src_[e];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++e;
        continue;
      }
      if (e + 1 >= n) fail(p, "unterminated string literal");
      const char x = src_[e + 1];
      e += 2;
      switch (x) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'v':
          value += '\v';
          break;
        case 'a':
          value += '\a';
          break;
        case '\\':
          value += '\\';
          break;
        case '\'':
          value += '\'';
          break;
        case '"':
          value += '"';
          break;
        case '\n':
          break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          const int width = x == 'x' ? 2 : x == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < width; ++k) {
            const int h = e < n ? hex_value(src_[e]) : -1;
            if (h < 0) fail(e, std::string("truncated \\") + x + " escape in string literal");
            cp = cp * 16 + static_cast<uint32_t>(h);
            ++e;
          }
          value += utf8_encode(static_cast<char32_t>(cp));
          break;
        }
        default:
          if (x >= '0' && x <= '7') {
            uint32_t cp = static_cast<uint32_t>(x - '0');
            for (int k = 0; k < 2 && e < n && src_[e] >= '0' && src_[e] <= '7'; ++k)
              cp = cp * 8 + (src_[e++] - '0');
            value += utf8_encode(static_cast<char32_t>(cp));
          } else {
            value += '\\';
            value += x;
          }
      }
    }
    tokens_.push_back({TokenKind::kString, std::move(value), pos_at(p)});
    return e + 1;
  }

  std::string src_;
  LexerOptions options_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  After after_ = After::kNothing;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const LexerOptions& options) {
  return Lexer(source, options).run();
}

}  // namespace chorus::inference::jinja
