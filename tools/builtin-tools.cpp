#include "tools/builtin-tools.h"

namespace chorus::tools {

ToolRegistry make_builtin_registry() {
  ToolRegistry registry;
  return registry;
}

}  // namespace chorus::tools
