#include "tools/html-text.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <utility>

namespace chorus::tools {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The named references common in real pages (the full HTML5 table has over 2000).
constexpr std::array<std::pair<std::string_view, std::uint32_t>, 40> kNamedEntities{{
    {"amp", '&'},      {"lt", '<'},        {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", ' '},     {"ensp", ' '},      {"emsp", ' '},     {"thinsp", ' '},   {"shy", 0xAD},
    {"copy", 0xA9},    {"reg", 0xAE},      {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014},
    {"ndash", 0x2013}, {"lsquo", 0x2018},  {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
    {"laquo", 0xAB},   {"raquo", 0xBB},    {"bull", 0x2022},  {"middot", 0xB7},  {"deg", 0xB0},
    {"times", 0xD7},   {"divide", 0xF7},   {"plusmn", 0xB1},  {"euro", 0x20AC},  {"pound", 0xA3},
    {"yen", 0xA5},     {"cent", 0xA2},     {"sect", 0xA7},    {"para", 0xB6},    {"eacute", 0xE9},
    {"egrave", 0xE8},  {"uuml", 0xFC},     {"ouml", 0xF6},    {"auml", 0xE4},    {"szlig", 0xDF},
}};

// Decodes the reference starting at text[0] == '&'; returns characters consumed, 0 when not a reference.
std::size_t decode_reference(std::string_view text, std::string& out) {
  const auto semi = text.find(';');
  if (semi == std::string_view::npos || semi < 2 || semi > 33) return 0;
  const std::string_view body = text.substr(1, semi - 1);
  if (body[0] == '#') {
    const bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
    const std::string_view digits = body.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    std::uint64_t cp = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
    if (end != digits.data() + digits.size()) return 0;
    if (ec == std::errc() && cp == 0xA0)
      out += ' ';  // &#160; reads like &nbsp;
    else
      append_utf8(out, ec == std::errc() && cp <= 0x10FFFF ? static_cast<std::uint32_t>(cp) : 0xFFFD);
    return semi + 1;
  }
  for (const auto& [name, cp] : kNamedEntities) {
    if (name == body) {
      if (cp != 0xAD) append_utf8(out, cp);  // a soft hyphen is invisible in running text
      return semi + 1;
    }
  }
  return 0;
}

bool tag_in(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names)
    if (n == name) return true;
  return false;
}

// Position of the case-insensitive closing tag "</name" at or after `from`, or npos.
std::size_t find_closing(std::string_view html, std::string_view name, std::size_t from) {
  for (std::size_t i = html.find("</", from); i != std::string_view::npos; i = html.find("</", i + 2)) {
    if (i + 2 + name.size() > html.size()) return std::string_view::npos;
    bool match = true;
    for (std::size_t k = 0; k < name.size() && match; ++k) match = lower(html[i + 2 + k]) == name[k];
    if (match) return i;
  }
  return std::string_view::npos;
}

// Position just after the '>' that ends the tag opened at `from`, skipping quoted attribute values.
std::size_t end_of_tag(std::string_view html, std::size_t from) {
  char quote = 0;
  for (std::size_t i = from; i < html.size(); ++i) {
    const char c = html[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i + 1;
    }
  }
  return html.size();
}

// Marks a paragraph boundary in the raw text (source whitespace never reaches it: text nodes are flattened).
constexpr char kParagraph = '\v';

// Trims every line, collapses spaces inside lines, drops empty lines; a paragraph mark between two
// lines becomes one blank line.
std::string tidy_lines(std::string_view raw) {
  std::string out;
  bool paragraph = false;
  std::size_t start = 0;
  while (start <= raw.size()) {
    const auto nl = raw.find('\n', start);
    const std::string_view piece = raw.substr(start, nl == std::string_view::npos ? raw.npos : nl - start);
    if (piece.find(kParagraph) != std::string_view::npos) paragraph = true;
    const std::string line = collapse_whitespace(piece);
    if (!line.empty()) {
      if (!out.empty()) out += paragraph ? "\n\n" : "\n";
      out += line;
      paragraph = false;
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace

std::string decode_html_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '&') {
      if (std::size_t used = decode_reference(text.substr(i), out)) {
        i += used;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= text.size();
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      ok = (cc >> 6) == 0x2;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
               (cp >= 0xD800 && cp <= 0xDFFF)))
      ok = false;
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      append_utf8(out, 0xFFFD);
      ++i;
    }
  }
  return out;
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (is_space(c)) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      out += c;
      space = false;
    }
  }
  return out;
}

HtmlText html_to_text(std::string_view html) {
  HtmlText result;
  std::string raw;  // text with '\n' for line breaks; source whitespace already flattened to spaces
  bool in_head = false;
  std::size_t i = 0;
  auto add_text = [&](std::string_view text) {
    if (in_head) return;
    std::string flat(text);
    for (char& c : flat)
      if (is_space(c)) c = ' ';
    raw += decode_html_entities(flat);
  };
  while (i < html.size()) {
    if (html[i] != '<') {
      const auto next = html.find('<', i);
      add_text(html.substr(i, next == std::string_view::npos ? html.npos : next - i));
      i = next == std::string_view::npos ? html.size() : next;
      continue;
    }
    if (html.substr(i).starts_with("<!--")) {
      const auto end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    if (i + 1 < html.size() && (html[i + 1] == '!' || html[i + 1] == '?')) {
      i = end_of_tag(html, i);
      continue;
    }
    const bool closing = i + 1 < html.size() && html[i + 1] == '/';
    std::size_t j = i + (closing ? 2 : 1);
    std::string name;
    while (j < html.size() && (std::isalnum(static_cast<unsigned char>(html[j])) || html[j] == '-'))
      name += lower(html[j++]);
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) {  // a literal '<'
      add_text("<");
      ++i;
      continue;
    }
    const std::size_t after = end_of_tag(html, j);
    const bool self_closing = after >= 2 && html[after - 2] == '/';
    i = after;

    if (!closing && tag_in(name, {"script", "style", "noscript", "template", "svg", "title", "textarea"}) &&
        !self_closing) {
      const std::size_t close = find_closing(html, name, i);
      const std::string_view content = html.substr(i, close == std::string_view::npos ? html.npos : close - i);
      if (name == "title" && result.title.empty()) result.title = collapse_whitespace(decode_html_entities(content));
      if (name == "textarea") add_text(content);
      i = close == std::string_view::npos ? html.size() : end_of_tag(html, close);
      continue;
    }
    if (name == "head") {
      in_head = !closing;
      continue;
    }
    if (name == "body" && !closing) in_head = false;
    if (in_head) continue;
    if (tag_in(name, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl",
                      "section", "article", "header", "footer", "nav", "main", "aside", "figure", "hr", "form",
                      "details", "fieldset"})) {
      raw += '\n';
      raw += kParagraph;
      raw += '\n';
    } else if (name == "li") {
      raw += closing ? "\n" : "\n- ";
    } else if (tag_in(name, {"br", "div", "tr", "dt", "dd", "caption", "summary", "figcaption", "address", "body",
                             "option", "legend"})) {
      raw += "\n";
    } else if (tag_in(name, {"td", "th"})) {
      raw += " ";
    }
  }
  result.text = tidy_lines(raw);
  return result;
}

}  // namespace chorus::tools
