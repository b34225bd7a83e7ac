#include "tools/builtin-tools.h"

#include "tools/calculator.h"
#include "tools/calendar.h"
#include "tools/python-tool.h"
#include "tools/web-tools.h"

namespace chorus::tools {

ToolRegistry make_builtin_registry() {
  ToolRegistry registry;
  registry.add(make_calculator_tool());
  registry.add(make_calendar_tool());
  register_web_tools(registry);
  register_python_tool(registry);
  return registry;
}

}  // namespace chorus::tools
