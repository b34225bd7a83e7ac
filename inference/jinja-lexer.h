#pragma once
// Jinja lexer: template source -> tokens, applying whitespace control ({%- -%}, {%+ +%}, trim_blocks,
// lstrip_blocks) and {% raw %} the way Jinja2 does.
#include <string>
#include <vector>

#include "inference/jinja-error.h"

namespace chorus::inference::jinja {

// What a token is.
enum class TokenKind {
  kText,           // template data between tags (already whitespace-controlled)
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,           // identifier or keyword
  kString,         // string literal; text is the unescaped value
  kInteger,        // integer literal; text is the digits
  kFloat,          // float literal; text is the spelling
  kOperator,       // punctuation such as + // ** == ( [ { . | ,
  kEnd,            // end of the template
};

// One token: its kind, its text (see TokenKind) and where it starts.
struct Token {
  TokenKind kind;
  std::string text;
  SourcePos pos;
};

// Jinja environment settings that shape lexing; the defaults are what transformers' apply_chat_template uses.
struct LexerOptions {
  bool trim_blocks = true;             // drop the first newline after a block or comment tag
  bool lstrip_blocks = true;           // drop spaces/tabs before a block or comment tag at a line start
  bool keep_trailing_newline = false;  // false: a single trailing newline of the template is removed
};

// The tokens of `source` (ending with kEnd); throws TemplateError for unclosed tags or bad characters.
std::vector<Token> tokenize(const std::string& source, const LexerOptions& options = {});

}  // namespace chorus::inference::jinja
