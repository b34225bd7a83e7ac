#include "training/chat-template.h"

namespace chorus::training {

// Whitespace control: every tag strips the whitespace before it ({%- ... %}), and text is emitted only from
// {{- ... }} expressions, so the layout of this source never reaches the output.
const char* const kChorusChatTemplate = R"J({%- set default_system = "You are Chorus, a helpful assistant." -%}
{%- if messages and messages[0].role == "system" -%}
  {%- set system_text = messages[0].content -%}
  {%- set turns = messages[1:] -%}
{%- else -%}
  {%- set system_text = none -%}
  {%- set turns = messages -%}
{%- endif -%}
{%- if tools -%}
  {{- "<|im_start|>system\n" + (system_text if system_text is not none else default_system) -}}
  {{- "\n\n# Tools\n\nThese functions are available to you (arguments marked ? are optional):" -}}
  {%- for tool in tools -%}
    {%- set fn = tool.function if tool.function is defined else tool -%}
    {{- "\n- " + fn.name + "(" -}}
    {%- if fn.parameters is defined and fn.parameters.properties is defined -%}
      {%- set required = fn.parameters.required if fn.parameters.required is defined else [] -%}
      {%- for pname, spec in fn.parameters.properties.items() -%}
        {%- if not loop.first -%}
          {{- ", " -}}
        {%- endif -%}
        {{- pname + ("" if pname in required else "?") + ": " -}}
        {%- if spec.enum is defined -%}
          {%- for v in spec.enum -%}
            {%- if not loop.first -%}
              {{- "|" -}}
            {%- endif -%}
            {{- v | tojson -}}
          {%- endfor -%}
        {%- elif spec.type is defined and spec.type is string -%}
          {{- spec.type -}}
        {%- elif spec.type is defined -%}
          {{- spec.type | join("|") -}}
        {%- else -%}
          {{- "any" -}}
        {%- endif -%}
      {%- endfor -%}
    {%- endif -%}
    {%- set summary = (fn.description.split(". ")[0] | trim) if fn.description is defined and fn.description else "" -%}
    {{- ")" + ((": " + summary + ("" if summary.endswith(".") else ".")) if summary else "") -}}
  {%- endfor -%}
  {{- "\n\nWhen a function would help, call it: write one JSON object with the function's name and its arguments between <tool_call> and </tool_call> tags, like this:\n<tool_call>\n{\"name\": \"function name\", \"arguments\": {\"argument\": \"value\"}}\n</tool_call>\nThe results come back between <tool_response> and </tool_response> tags.<|im_end|>\n" -}}
{%- elif system_text is not none -%}
  {{- "<|im_start|>system\n" + system_text + "<|im_end|>\n" -}}
{%- endif -%}
{%- for message in turns -%}
  {%- if message.role == "tool" -%}
    {%- if loop.first or loop.previtem.role != "tool" -%}
      {{- "<|im_start|>user" -}}
    {%- endif -%}
    {{- "\n<tool_response>\n" -}}
    {%- if message.content is string -%}
      {{- message.content -}}
    {%- else -%}
      {{- message.content | tojson -}}
    {%- endif -%}
    {{- "\n</tool_response>" -}}
    {%- if loop.last or loop.nextitem.role != "tool" -%}
      {{- "<|im_end|>\n" -}}
    {%- endif -%}
  {%- elif message.role == "assistant" -%}
    {{- "<|im_start|>assistant\n" -}}
    {%- if message.content -%}
      {{- message.content -}}
    {%- endif -%}
    {%- if message.tool_calls -%}
      {%- for call in message.tool_calls -%}
        {%- set fn = call.function if call.function is defined else call -%}
        {%- if message.content or not loop.first -%}
          {{- "\n" -}}
        {%- endif -%}
        {{- "<tool_call>\n{\"name\": " + (fn.name | tojson) + ", \"arguments\": " -}}
        {%- if fn.arguments is string -%}
          {{- fn.arguments -}}
        {%- else -%}
          {{- fn.arguments | tojson -}}
        {%- endif -%}
        {{- "}\n</tool_call>" -}}
      {%- endfor -%}
    {%- endif -%}
    {{- "<|im_end|>\n" -}}
  {%- else -%}
    {{- "<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n" -}}
  {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
  {{- "<|im_start|>assistant\n" -}}
{%- endif -%})J";

std::string chorus_chat_template() { return kChorusChatTemplate; }

}  // namespace chorus::training
