// Python json.dumps: separators, indent, sort_keys, ensure_ascii and float repr as CPython prints them.
#include "inference/jinja-json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "inference/jinja-error.h"
#include "inference/jinja-strings.h"

namespace chorus::inference::jinja {
namespace {

void append_hex4(std::string& out, unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\u%04x", v);
  out += buf;
}

void dump_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (char32_t c : utf8_decode(s)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          append_hex4(out, static_cast<unsigned>(c));
        } else if (ensure_ascii && c >= 0x7F) {
          if (c >= 0x10000) {
            const char32_t v = c - 0x10000;
            append_hex4(out, static_cast<unsigned>(0xD800 + (v >> 10)));
            append_hex4(out, static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
          } else {
            append_hex4(out, static_cast<unsigned>(c));
          }
        } else {
          out += utf8_encode(c);
        }
    }
  }
  out += '"';
}

void dump(std::string& out, const Value& v, const JsonDumpOptions& o, int depth) {
  auto newline = [&](int level) {
    if (!o.indent) return;
    out += '\n';
    for (int i = 0; i < level; ++i) out += *o.indent;
  };
  if (v.is_none()) {
    out += "null";
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_int()) {
    out += std::to_string(v.as_int());
  } else if (v.is_float()) {
    const double d = v.as_double();
    if (std::isnan(d)) {
      out += "NaN";
    } else if (std::isinf(d)) {
      out += d > 0 ? "Infinity" : "-Infinity";
    } else {
      out += python_float_repr(d);
    }
  } else if (v.is_string()) {
    dump_string(out, v.as_string(), o.ensure_ascii);
  } else if (v.is_list()) {
    const auto& items = v.as_list().items;
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += o.item_separator;
      newline(depth + 1);
      dump(out, items[i], o, depth + 1);
    }
    newline(depth);
    out += ']';
  } else if (v.is_dict()) {
    std::vector<const Dict::Entry*> entries;
    for (const auto& e : v.as_dict().entries()) entries.push_back(&e);
    if (entries.empty()) {
      out += "{}";
      return;
    }
    if (o.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto* a, const auto* b) { return a->first < b->first; });
    }
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) out += o.item_separator;
      newline(depth + 1);
      dump_string(out, entries[i]->first, o.ensure_ascii);
      out += o.key_separator;
      dump(out, entries[i]->second, o, depth + 1);
    }
    newline(depth);
    out += '}';
  } else {
    throw OperationError("Object of type " + v.type_name() + " is not JSON serializable");
  }
}

}  // namespace

std::string dump_json(const Value& value, const JsonDumpOptions& options) {
  std::string out;
  dump(out, value, options, 0);
  return out;
}

}  // namespace chorus::inference::jinja
