#pragma once
// Post-processors of tokenizer.json ("post_processor"): TemplateProcessing, BertProcessing, RobertaProcessing,
// ByteLevel (no effect on ids) and Sequence. They add special tokens when encoding with add_special_tokens.
#include <cstdint>
#include <memory>
#include <vector>

namespace chorus::inference {

class JsonRef;

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // The ids of sequence a (and b when not null) with the template's special tokens added.
  virtual std::vector<int32_t> process(const std::vector<int32_t>& a, const std::vector<int32_t>* b) const = 0;
};

// Builds the post-processor described by a tokenizer.json value; nullptr when it never changes ids (null,
// ByteLevel). Throws TokenizerError.
std::unique_ptr<PostProcessor> make_post_processor(const JsonRef& config);

}  // namespace chorus::inference
