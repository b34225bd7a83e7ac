// Post-processors as templates: a list of pieces, each a sequence ($A / $B) or fixed special-token ids.
#include "inference/post-processor.h"

#include <nlohmann/json.hpp>

#include <map>
#include <sstream>
#include <string>

#include "inference/tokenizer-json.h"

namespace chorus::inference {
namespace {

struct Piece {
  int sequence = -1;  // 0 = $A, 1 = $B, -1 = the fixed ids
  std::vector<int32_t> ids;
};
using Template = std::vector<Piece>;

class TemplateProcessor : public PostProcessor {
 public:
  TemplateProcessor(Template single, Template pair) : single_(std::move(single)), pair_(std::move(pair)) {}
  std::vector<int32_t> process(const std::vector<int32_t>& a, const std::vector<int32_t>* b) const override {
    std::vector<int32_t> out;
    out.reserve(a.size() + (b ? b->size() : 0) + 4);
    for (const Piece& p : b ? pair_ : single_) {
      if (p.sequence == 0)
        out.insert(out.end(), a.begin(), a.end());
      else if (p.sequence == 1 && b)
        out.insert(out.end(), b->begin(), b->end());
      else if (p.sequence < 0)
        out.insert(out.end(), p.ids.begin(), p.ids.end());
    }
    return out;
  }

 private:
  Template single_, pair_;
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  std::vector<int32_t> process(const std::vector<int32_t>& a, const std::vector<int32_t>* b) const override {
    std::vector<int32_t> ids = steps_[0]->process(a, b);
    for (size_t i = 1; i < steps_.size(); ++i) ids = steps_[i]->process(ids, nullptr);
    return ids;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

using SpecialTokens = std::map<std::string, std::vector<int32_t>>;

std::vector<int32_t> special_ids(const JsonRef& where, const std::string& name, const SpecialTokens& specials) {
  auto it = specials.find(name);
  if (it == specials.end()) where.fail("names special token \"" + name + "\", which is not in special_tokens");
  return it->second;
}

Template parse_template(const JsonRef& t, const SpecialTokens& specials) {
  Template out;
  if (t.value().is_string()) {  // "[CLS]:0 $A:0 [SEP]:0"
    std::istringstream in(t.as_string());
    std::string word;
    while (in >> word) {
      std::string name = word.substr(0, word.find(':'));
      if (!name.empty() && name[0] == '$') {
        std::string which = name.substr(1);
        if (which.empty() || which == "A" || which == "a" || (which.find_first_not_of("0123456789") == std::string::npos))
          out.push_back({0, {}});
        else if (which == "B" || which == "b")
          out.push_back({1, {}});
        else
          t.fail("has an unknown sequence \"" + name + "\" (expected $A or $B)");
      } else {
        out.push_back({-1, special_ids(t, name, specials)});
      }
    }
    return out;
  }
  t.expect_array();
  for (size_t i = 0; i < t.size(); ++i) {
    JsonRef item = t.at(i);
    item.expect_object();
    if (item.has("SpecialToken")) {
      JsonRef st = item.at("SpecialToken");
      out.push_back({-1, special_ids(st.at("id"), st.string_at("id"), specials)});
    } else if (item.has("Sequence")) {
      JsonRef seq = item.at("Sequence");
      std::string id = seq.string_at("id");
      if (id == "A")
        out.push_back({0, {}});
      else if (id == "B")
        out.push_back({1, {}});
      else
        seq.at("id").fail("\"" + id + "\" is not a sequence (expected A or B)");
    } else {
      item.fail("must have a \"SpecialToken\" or \"Sequence\" member");
    }
  }
  return out;
}

// [name, id] as BertProcessing / RobertaProcessing write their tokens.
int32_t token_pair_id(const JsonRef& pair) {
  pair.expect_array();
  if (pair.size() != 2) pair.fail("must be [token, id]");
  pair.at(size_t{0}).as_string();
  return static_cast<int32_t>(pair.at(size_t{1}).as_int(0, INT32_MAX - 1));
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const JsonRef& config) {
  if (config.is_null()) return nullptr;
  config.expect_object();
  const std::string type = config.type();
  if (type == "ByteLevel") return nullptr;  // offsets only
  if (type == "TemplateProcessing") {
    SpecialTokens specials;
    JsonRef map = config.get("special_tokens");
    if (!map.is_null()) {
      map.expect_object();
      for (auto it = map.value().begin(); it != map.value().end(); ++it) {
        JsonRef entry(it.value(), config.file(), map.path() + "[\"" + it.key() + "\"]");
        JsonRef ids = entry.at("ids");
        std::vector<int32_t> v;
        for (size_t i = 0; i < ids.size(); ++i) v.push_back(static_cast<int32_t>(ids.at(i).as_int(0, INT32_MAX - 1)));
        specials[it.key()] = std::move(v);
      }
    }
    Template single = parse_template(config.at("single"), specials);
    Template pair = config.has("pair") ? parse_template(config.at("pair"), specials) : single;
    return std::make_unique<TemplateProcessor>(std::move(single), std::move(pair));
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    int32_t sep = token_pair_id(config.at("sep"));
    int32_t cls = token_pair_id(config.at("cls"));
    Template single = {{-1, {cls}}, {0, {}}, {-1, {sep}}};
    Template pair = single;
    if (type == "RobertaProcessing") pair.push_back({-1, {sep}});
    pair.push_back({1, {}});
    pair.push_back({-1, {sep}});
    return std::make_unique<TemplateProcessor>(std::move(single), std::move(pair));
  }
  if (type == "Sequence") {
    JsonRef list = config.at("processors");
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (size_t i = 0; i < list.size(); ++i) {
      JsonRef item = list.at(i);
      if (item.is_null()) item.fail("must be an object, not null");
      if (auto p = make_post_processor(item)) steps.push_back(std::move(p));
    }
    if (steps.empty()) return nullptr;
    if (steps.size() == 1) return std::move(steps[0]);
    return std::make_unique<SequenceProcessor>(std::move(steps));
  }
  config.unsupported_type(type, "TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence");
}

}  // namespace chorus::inference
