#pragma once
// Readable text from an HTML page: a small tolerant tokenizer, not a full HTML5 parser.
#include <string>
#include <string_view>

namespace chorus::tools {

// The text a reader sees and the page's <title>.
struct HtmlText {
  std::string title;  // <title> text, entities decoded, whitespace collapsed ("" when absent)
  std::string text;   // body text: block elements become line breaks, runs of spaces collapse, blank lines at most one
};

// Drops comments, <head> (except the title), script, style, noscript, template and svg; decodes entities.
HtmlText html_to_text(std::string_view html);
// Decodes named (common set) and numeric (&#65; &#x41;) references; unknown ones stay as written;
// a no-break space (&nbsp; &#160;) becomes a plain space.
std::string decode_html_entities(std::string_view text);
// Replaces every invalid UTF-8 sequence with U+FFFD (JSON output requires valid UTF-8).
std::string to_valid_utf8(std::string_view text);
// Collapses every run of whitespace into one space and trims both ends.
std::string collapse_whitespace(std::string_view text);

}  // namespace chorus::tools
