#include "agents/llm.h"

// Placeholder translation unit so the library has a source; the LLM helper replaces it.
