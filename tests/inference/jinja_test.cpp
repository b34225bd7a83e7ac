// Jinja interpreter: every supported feature on small inline templates. Expected outputs follow Jinja2 3.1
// configured like transformers' apply_chat_template (trim_blocks, lstrip_blocks, loopcontrols, json.dumps
// tojson); each was checked against the Python implementation.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "inference/chat-template.h"
#include "inference/jinja-interpreter.h"
#include "inference/jinja-json.h"
#include "inference/jinja-strings.h"

namespace chorus::inference::jinja {
namespace {

using Json = nlohmann::ordered_json;

std::string render(const std::string& source, const Json& variables = Json::object()) {
  return Template(source).render(variables);
}

// "line:column: problem" of the TemplateError that compiling or rendering raises ("" when none does).
std::string error_of(const std::string& source, const Json& variables = Json::object()) {
  try {
    render(source, variables);
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "";
}

// ---- whitespace control ----------------------------------------------------------------------------------

TEST(JinjaWhitespace, TrimBlocksAndLstripBlocks) {
  EXPECT_EQ(render("a\n  {% if true %}\n    x\n  {% endif %}\nb"), "a\n    x\nb");
  EXPECT_EQ(render("{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n"), "  1\n  2\n");
  EXPECT_EQ(render("<ul>\n{% for i in xs %}\n    <li>{{ i }}</li>\n{% endfor %}\n</ul>\n", {{"xs", {1, 2}}}),
            "<ul>\n    <li>1</li>\n    <li>2</li>\n</ul>");
  EXPECT_EQ(render("x {% if 1 %} y {% endif %} z\n  {% if 1 %}\n  w\n  {% endif %}"), "x  y  z\n  w\n");
  EXPECT_EQ(render("  \t{% if 1 %}x{% endif %}"), "x");
  EXPECT_EQ(render("{% if true %}   \n  y{% endif %}"), "   \n  y");  // only a newline right after %} goes
  EXPECT_EQ(render("\n\n{% if 1 %}\n\n{% endif %}\n\n"), "\n\n\n");
}

TEST(JinjaWhitespace, LstripDoesNotApplyToVariables) {
  EXPECT_EQ(render("  {% set x = 1 %}  {{ x }}"), "  1");
  EXPECT_EQ(render("{{ 'a' }}\n{{ 'b' }}\n"), "a\nb");
}

TEST(JinjaWhitespace, MinusStripsAllWhitespace) {
  EXPECT_EQ(render("a  {%- if true -%}  x  {%- endif -%}  b"), "axb");
  EXPECT_EQ(render("  {{ 1 }}  \n  {{- 2 -}}  \n {{ 3 }}"), "  123");
  EXPECT_EQ(render("a\n{%- if true %}\nb\n{%- endif %}\nc"), "abc");
  EXPECT_EQ(render("a\n{% if true -%}\n\n   b\n{%- endif %}\n\nc"), "a\nb\nc");
  EXPECT_EQ(render("{% macro m() -%}\n  body\n{%- endmacro %}\n[{{ m() }}]"), "[body]");
  EXPECT_EQ(render("{%- for m in msgs %}\n    {%- if m == 'a' %}\n        {{- 'A' }}\n    {%- else %}\n      "
                   "  {{- 'B' }}\n"
                   "    {%- endif %}\n{%- endfor %}\n",
                   {{"msgs", {"a", "b"}}}),
            "AB");
}

TEST(JinjaWhitespace, PlusDisablesLstripAndTrim) {
  EXPECT_EQ(render("a {%+ if true %}b{% endif +%}\nc"), "a b\nc");
}

TEST(JinjaWhitespace, Comments) {
  EXPECT_EQ(render("{# comment #}\nx\n  {# c2 #}  y\n  {#- c3 -#}\n z"), "x\n  yz");
  EXPECT_EQ(render("   {# lead #}   text   {# mid #}\n   {{ 'v' }}   {# tail #}\n"), "   text      v   ");
}

TEST(JinjaWhitespace, TrailingNewlineAndLineEndings) {
  EXPECT_EQ(render("x\n\n"), "x\n");
  EXPECT_EQ(render("line1\r\nline2{% if 1 %}\r\nz{% endif %}\r\n"), "line1\nline2z");
}

TEST(JinjaWhitespace, Raw) {
  EXPECT_EQ(render("{% raw %}{{ not }} {% evaluated %}{% endraw %}!"), "{{ not }} {% evaluated %}!");
  EXPECT_EQ(render("  {%- raw -%}  {{ x }}  {%- endraw -%}  !"), "{{ x }}!");
}

// ---- literals and output ---------------------------------------------------------------------------------

TEST(JinjaLiterals, NumbersPrintLikePython) {
  EXPECT_EQ(
      render("{{ 1 }} {{ 1.0 }} {{ 1.5e3 }} {{ 1e20 }} {{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }} {{ 1_000 }}"),
      "1 1.0 1500.0 1e+20 0.0001 1e-05 -0.0 1000");
  EXPECT_EQ(render("{{ 0.1 + 0.2 }} {{ 1/3 }} {{ 2.5e-7 }}"),
            "0.30000000000000004 0.3333333333333333 2.5e-07");
  EXPECT_EQ(render("{{ x }} {{ y }} {{ z }}", {{"x", 1e300}, {"y", -1.5e-10}, {"z", 123456789.123}}),
            "1e+300 -1.5e-10 123456789.123");
}

TEST(JinjaLiterals, ConstantsAndContainers) {
  EXPECT_EQ(render("{{ true }} {{ True }} {{ none }} {{ None }} {{ false }}"), "True True None None False");
  EXPECT_EQ(
      render("{{ [1, 'a', none, true, 2.5] }} {{ (1,) }} {{ (1, 2) }} {{ {'a': 1, 'b': [1]} }} {{ () }}"),
      "[1, 'a', None, True, 2.5] (1,) (1, 2) {'a': 1, 'b': [1]} ()");
  EXPECT_EQ(render("{{ {'a': {'b': 1}}}}"), "{'a': {'b': 1}}");
  EXPECT_EQ(render("{{ dict(a=1, b=2) }} {% set d = {'x': 1, 'y': {'z': [1,2]}} %}{{ d.y.z[1] }}"),
            "{'a': 1, 'b': 2} 2");
}

TEST(JinjaLiterals, StringEscapesAndRepr) {
  EXPECT_EQ(render(R"({{ 'it\'s' }} {{ "q\"x" }} {{ 'tab\there' }} {{ 'nl\nx' }} {{ '\u00e9\x41' }})"),
            "it's q\"x tab\there nl\nx \xC3\xA9"
            "A");
  EXPECT_EQ(render(R"({{ ['it\'s', 'a"b', "both'\"", 'x\ny', '\\'] }})"),
            R"(["it's", 'a"b', 'both\'"', 'x\ny', '\\'])");
  EXPECT_EQ(render("{{ 'a' 'b' }}"), "ab");
}

TEST(JinjaLiterals, UndefinedIsEmptyAndFalsy) {
  EXPECT_EQ(render("{{ nothing }}|{{ nothing is defined }}|{{ nothing is undefined }}|{% if nothing %}y{% "
                   "else %}n{% endif %}"),
            "|False|True|n");
  EXPECT_EQ(render("{{ x }}|{{ x.y is defined }}|{{ x.z is defined }}", {{"x", {{"y", 1}}}}),
            "{'y': 1}|True|False");
  EXPECT_EQ(
      render(
          "{{ u == u2 }} {{ u is none }} {{ u | string }}|{{ u | length }} {{ u | list }} [{{ u | trim }}]"),
      "True False |0 [] []");
  EXPECT_EQ(render("{{ none.x }}|{{ x.y }}", {{"x", nullptr}}), "|");
}

// ---- expressions -----------------------------------------------------------------------------------------

TEST(JinjaExpressions, Arithmetic) {
  EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7 / 2 }} {{ 6 / 2 }} "
                   "{{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2 ** 3 ** 2 }}"),
            "3 -4 1 2 -2 3.5 3.0 1024 0.5 64");
  EXPECT_EQ(render("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + 1.5 "
                   "}} {{ true + 1 }}"),
            "7 9 4 3.0 0.5 2.5 2");
  EXPECT_EQ(render("{{ 1 - -1 }} {{ +3 }} {{ -x }}", {{"x", 4}}), "2 3 -4");
}

TEST(JinjaExpressions, StringsAndSequences) {
  EXPECT_EQ(
      render("{{ 'ab' * 3 }} {{ [1] * 3 }} {{ 'a' ~ 1 ~ none ~ true }} {{ 'a' + 'b' }} {{ [1] + [2] }}"),
      "ababab [1, 1, 1] a1NoneTrue ab [1, 2]");
  EXPECT_EQ(render("{{ x ~ y }}", {{"x", 1.5}, {"y", nullptr}}), "1.5None");
  EXPECT_EQ(render("{{ '%s-%d-%05.2f-%r-%%-%x' % ('a', 3, 2.5, 'q', 255) }}"), "a-3-02.50-'q'-%-ff");
  EXPECT_EQ(render("{{ '%(a)s and %(b)s' % {'a': 1, 'b': 'two'} }} {{ '%-5s|%5s|' % ('ab', 'cd') }}"),
            "1 and two ab   |   cd|");
}

TEST(JinjaExpressions, ComparisonsAndMembership) {
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ [1,2] == [1,2] }} "
                   "{{ {'a':1,'b':2} == {'b':2,'a':1} }} {{ 'b' > 'a' }} {{ [1,2] < [1,3] }}"),
            "True False True True True True True True");
  EXPECT_EQ(render("{{ 'a' in 'cat' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'cat' }} {{ 3 "
                   "not in [1] }}"),
            "True True True True True");
  EXPECT_EQ(render("{{ 1 == true }} {{ 0 == false }} {{ 1.0 == true }} {{ 'a' == none }} {{ none == none }}"),
            "True True True False True");
}

TEST(JinjaExpressions, LogicReturnsOperands) {
  EXPECT_EQ(
      render("{{ 0 or 'x' }} {{ 1 and 'y' }} {{ none or none }} {{ not 0 }} {{ not [] }} {{ '' and 'q' }}"),
      "x y None True True ");
  EXPECT_EQ(render("{{ not x is defined }} {{ not 1 == 2 }} {{ x is not none }}", {{"x", nullptr}}),
            "False True False");
}

TEST(JinjaExpressions, ConditionalExpression) {
  EXPECT_EQ(render("{{ 'y' if true else 'n' }} {{ 'y' if false else 'n' }} [{{ 'y' if false }}] {{ 1 if 0 "
                   "else 2 if 0 else 3 }}"),
            "y n [] 3");
}

TEST(JinjaExpressions, FilterBindsTighterThanOperators) {
  EXPECT_EQ(render("{{ 'a' + ' b ' | trim + 'c' }} {{ -x | abs }} {{ [1,2] | length is even }}", {{"x", 3}}),
            "abc 3 True");
}

// ---- attribute / item access -----------------------------------------------------------------------------

TEST(JinjaAccess, AttributesItemsAndNegativeIndices) {
  const Json vars = {{"d", {{"a", 1}, {"b", {{"c", 2}}}}}, {"l", {1, 2, 3}}, {"s", "h\xC3\xA9llo"}};
  EXPECT_EQ(
      render(
          "{{ d.a }} {{ d['a'] }} {{ d.b.c }} {{ l[0] }} {{ l[-1] }} {{ l.1 }} {{ d.missing }}|{{ l[10] }}|"
          "{{ s[1] }} {{ s[-1] }}",
          vars),
      "1 1 2 1 3 2 ||\xC3\xA9 o");
}

TEST(JinjaAccess, DictMethodsShadowKeysForDotButNotForSubscript) {
  EXPECT_EQ(render("{{ d['items'] }} {{ d.items is callable }}", {{"d", {{"items", 1}}}}), "1 True");
}

TEST(JinjaAccess, Slicing) {
  EXPECT_EQ(render("{{ l[1:] }} {{ l[:2] }} {{ l[::-1] }} {{ l[::2] }} {{ l[-2:] }} {{ l[1:-1] }} {{ s[::-1] "
                   "}} {{ s[1:3] }} "
                   "{{ l[5:] }} {{ l[:-10] }} {{ l[3:0:-1] }}",
                   {{"l", {1, 2, 3, 4}}, {"s", "h\xC3\xA9llo"}}),
            "[2, 3, 4] [1, 2] [4, 3, 2, 1] [1, 3] [3, 4] [2, 3] oll\xC3\xA9h \xC3\xA9l [] [] [4, 3, 2]");
}

// ---- statements ------------------------------------------------------------------------------------------

TEST(JinjaFor, LoopVariables) {
  EXPECT_EQ(
      render("{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/"
             "{{ loop.first }}/{{ loop.last }}/{{ loop.length }} {% endfor %}",
             {{"xs", {"a", "b", "c"}}}),
      "1/0/3/2/True/False/3 2/1/2/1/False/False/3 3/2/1/0/False/True/3 ");
  EXPECT_EQ(render("{% for x in xs %}{{ loop.previtem }}-{{ x }}-{{ loop.nextitem }} {% endfor %}",
                   {{"xs", {1, 2, 3}}}),
            "-1-2 1-2-3 2-3- ");
  EXPECT_EQ(render("{% for x in xs %}{{ loop.cycle('odd', 'even') }} {% endfor %}", {{"xs", {1, 2, 3}}}),
            "odd even odd ");
}

TEST(JinjaFor, ElseUnpackingAndFilter) {
  EXPECT_EQ(
      render(
          "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in nothing %}x{% else %}undef{% endfor %}"),
      "empty|undef");
  EXPECT_EQ(
      render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}",
             {{"d", {{"b", 1}, {"a", 2}}}}),
      "b=1;a=2;ba");
  EXPECT_EQ(render("{% for (a, b) in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}"), "37");
  EXPECT_EQ(render("{% for x in xs if x % 2 == 0 %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %}",
                   {{"xs", {1, 2, 3, 4, 5, 6}}}),
            "2:1/3 4:2/3 6:3/3 ");
  EXPECT_EQ(render("{% for x in 'h\xC3\xA9y' %}[{{ x }}]{% endfor %}"), "[h][\xC3\xA9][y]");
}

TEST(JinjaFor, NestedLoopsBreakContinue) {
  EXPECT_EQ(render("{% for a in [1,2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ "
                   "loop.index }} {% endfor %}"),
            "1x11y21 2x12y22 ");
  EXPECT_EQ(render("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break "
                   "%}{% endif %}"
                   "{{ x }}{% endfor %}"),
            "0134");
}

TEST(JinjaFor, ScopingLikeJinja2) {
  // A set inside a loop is per iteration and does not leak out; namespace() carries state.
  EXPECT_EQ(render("{% set c = 0 %}{% for i in range(3) %}{% set c = c + 1 %}{{ c }}{% endfor %}{{ c }}"),
            "1110");
  EXPECT_EQ(render("{% for i in range(2) %}{% set inner = i %}{% endfor %}[{{ inner }}]"), "[]");
  EXPECT_EQ(render("{% set ns = namespace(count=0) %}{% for i in range(3) %}{% set ns.count = ns.count + i "
                   "%}{% endfor %}"
                   "{{ ns.count }}"),
            "3");
  EXPECT_EQ(render("{% set x = 5 %}{% if true %}{% set x = 6 %}{% endif %}{{ x }}"), "6");
  EXPECT_EQ(render("{% for x in [1,2] %}{{ loop.length }}{% endfor %}{{ loop is defined }}"), "22False");
}

TEST(JinjaSet, TuplesBlocksAndWith) {
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t }}"), "12(1, 2)");
  EXPECT_EQ(
      render("{% set x %}block {{ 1 + 1 }}{% endset %}[{{ x }}]{% set y | upper %}up{% endset %}{{ y }}"),
      "[block 2]UP");
  EXPECT_EQ(render("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]"), "3[]");
  EXPECT_EQ(render("{% filter upper %}hello {{ 'x' }}{% endfilter %}"), "HELLO X");
}

TEST(JinjaMacro, DefaultsKeywordsAndRecursion) {
  EXPECT_EQ(
      render("{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}"
             "{{ greet('Bob') }} {{ greet('Al', greeting='Hi') }} {{ greet(name='Z', greeting='Yo') }}"),
      "Hello, Bob! Hi, Al! Yo, Z!");
  EXPECT_EQ(render("{% macro f(a, b=a ~ '!') %}{{ a }}{{ b }}{% endmacro %}{{ f('x') }}"), "xx!");
  EXPECT_EQ(render("{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}"),
            "(1, 2){'k': 3}");
  EXPECT_EQ(
      render(
          "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}"
          "{{ fact(5) }}"),
      "120");
  EXPECT_EQ(render("{% set g = 'G' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}"), "G");
}

TEST(JinjaMacro, CallBlocks) {
  EXPECT_EQ(render("{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner{% endcall %}"),
            "<inner>");
  EXPECT_EQ(render("{% macro list(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}"
                   "{% call(x) list([1,2]) %}[{{ x }}]{% endcall %}"),
            "[1][2]");
}

TEST(JinjaStatements, GenerationAndDo) {
  EXPECT_EQ(render("{% generation %}gen{% endgeneration %}"), "gen");
  EXPECT_EQ(render("{% set l = [] %}{% do l.append(1) %}{{ l }}"), "[1]");
}

// ---- tests (is ...) --------------------------------------------------------------------------------------

TEST(JinjaTests, TypeTests) {
  const std::string row =
      "{{ v is none }}{{ v is boolean }}{{ v is true }}{{ v is false }}{{ v is number }}{{ v is integer }}"
      "{{ v is float }}{{ v is string }}{{ v is mapping }}{{ v is sequence }}{{ v is iterable }}{{ v is "
      "callable }}";
  auto t = [&](const Json& v) { return render(row, {{"v", v}}); };
  EXPECT_EQ(t(nullptr), "TrueFalseFalseFalseFalseFalseFalseFalseFalseFalseFalseFalse");
  EXPECT_EQ(t(true), "FalseTrueTrueFalseTrueFalseFalseFalseFalseFalseFalseFalse");
  EXPECT_EQ(t(false), "FalseTrueFalseTrueTrueFalseFalseFalseFalseFalseFalseFalse");
  EXPECT_EQ(t(0), "FalseFalseFalseFalseTrueTrueFalseFalseFalseFalseFalseFalse");
  EXPECT_EQ(t(1.5), "FalseFalseFalseFalseTrueFalseTrueFalseFalseFalseFalseFalse");
  EXPECT_EQ(t("a"), "FalseFalseFalseFalseFalseFalseFalseTrueFalseTrueTrueFalse");
  EXPECT_EQ(t(Json::array({1})), "FalseFalseFalseFalseFalseFalseFalseFalseFalseTrueTrueFalse");
  EXPECT_EQ(t({{"a", 1}}), "FalseFalseFalseFalseFalseFalseFalseFalseTrueTrueTrueFalse");
}

TEST(JinjaTests, ValueTests) {
  EXPECT_EQ(
      render(
          "{{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 2 is eq 2 }} "
          "{{ 2 is equalto 3 }} {{ 1 is lt 2 }} {{ 3 is ge 3 }} {{ 'a' is in 'abc' }} {{ 'ab' is lower }} "
          "{{ 'AB' is upper }} {{ x is sameas x }} {{ none is sameas none }} {{ range is callable }}",
          {{"x", {1}}}),
      "True True True False True False True True True True True True True True");
  EXPECT_EQ(
      render("{{ 1 is ne 2 }} {{ 1 is gt 0 }} {{ 1 is le 1 }} {{ 'upper' is filter }} {{ 'nope' is test }}"),
      "True True True True False");
}

// ---- filters ---------------------------------------------------------------------------------------------

TEST(JinjaFilters, StringFilters) {
  EXPECT_EQ(render("{{ '  x  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'abc' | length }}|{{ [1,2] | count }}|"
                   "{{ {'a':1} | length }}|{{ 'h\xC3\xA9llo' | length }}"),
            "x|a|3|2|1|5");
  EXPECT_EQ(render("{{ 'hello world' | upper }} {{ 'HeLLo' | lower }} {{ 'hello wORLD-foo(bar' | title }} "
                   "{{ 'hELLO world' | capitalize }}"),
            "HELLO WORLD hello Hello World-Foo(Bar Hello world");
  EXPECT_EQ(render("{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }}"), "bbb bba");
  EXPECT_EQ(render("{{ '<a href=\"x\">&\\'</a>' | escape }} {{ '<b>' | e }} {{ '<b>' | safe }}"),
            "&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt; &lt;b&gt; <b>");
  EXPECT_EQ(render("{{ 'hello world foo' | truncate(9) }} {{ 'hello world foo' | truncate(9, true) }} "
                   "{{ 'one two' | wordcount }} {{ 'ab' | center(6) }}|"),
            "hello... hello ... 2   ab  |");
  EXPECT_EQ(render("{{ '%s=%d' | format('a', 1) }} {{ 5 | pprint }} {{ 'a' | pprint }} {{ '<p>a  b</p>' | "
                   "striptags }}"),
            "a=1 5 'a' a b");
}

TEST(JinjaFilters, Indent) {
  EXPECT_EQ(render("{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, "
                   "blank=true) }}|"
                   "{{ 'a\\nb' | indent('> ') }}|{{ 'a\\nb\\n' | indent(1) }}"),
            "a\n    b\n\n    c|  a\n  b|a\n  \n  b|a\n> b|a\n b\n");
}

TEST(JinjaFilters, DefaultWithAndWithoutBoolean) {
  EXPECT_EQ(render("{{ x | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ none | "
                   "default('d') }} "
                   "{{ x | d('dd') }} {{ 0 | d(5, boolean=true) }}"),
            "d  d None dd 5");
}

TEST(JinjaFilters, SequenceFilters) {
  EXPECT_EQ(render("{{ [1,2,3] | first }} {{ [1,2,3] | last }} {{ 'abc' | first }} {{ 'abc' | last }} [{{ [] "
                   "| first }}]"),
            "1 3 a c []");
  EXPECT_EQ(
      render("{{ [1,2,2,'a','A'] | unique | list }} {{ [1,2,3] | reverse | list }} {{ 'abc' | reverse }} "
             "{{ 'ab' | list }} {{ {'a':1} | list }}"),
      "[1, 2, 'a'] [3, 2, 1] cba ['a', 'b'] ['a']");
  EXPECT_EQ(render("{{ [1,2,3] | join(', ') }} {{ [1,2,3] | join }} {{ xs | join('|', attribute='n') }}",
                   {{"xs", {{{"n", "a"}}, {{"n", "b"}}}}}),
            "1, 2, 3 123 a|b");
  EXPECT_EQ(render("{{ [1,2,3] | sum }} {{ [1,2] | sum(start=10) }} {{ [3,1,2] | max }} {{ [3,1,2] | min }} "
                   "{{ ['b','A'] | max }}"),
            "6 13 3 1 b");
  EXPECT_EQ(render("{{ [1,2,3,4,5] | batch(2) | list }} {{ [1,2,3] | batch(2, 0) | list }}"),
            "[[1, 2], [3, 4], [5]] [[1, 2], [3, 0]]");
}

TEST(JinjaFilters, Sort) {
  EXPECT_EQ(render("{{ [3,1,2] | sort }} {{ [3,1,2] | sort(reverse=true) }} {{ ['b','A','c'] | sort }} "
                   "{{ xs | sort(attribute='n') | map(attribute='n') | list }}",
                   {{"xs", {{{"n", 2}}, {{"n", 1}}}}}),
            "[1, 2, 3] [3, 2, 1] ['A', 'b', 'c'] [1, 2]");
  EXPECT_EQ(render("{{ xs | sort(attribute='a,b') }}",
                   {{"xs", {{{"a", 1}, {"b", 2}}, {{"a", 1}, {"b", 1}}, {{"a", 0}, {"b", 9}}}}}),
            "[{'a': 0, 'b': 9}, {'a': 1, 'b': 1}, {'a': 1, 'b': 2}]");
}

TEST(JinjaFilters, MappingFilters) {
  const Json d = {{"d", {{"b", 1}, {"a", 2}, {"C", 0}}}};
  EXPECT_EQ(render("{{ d | items | list }} {{ d | dictsort }} {{ d | dictsort(reverse=true) }}", d),
            "[('b', 1), ('a', 2), ('C', 0)] [('a', 2), ('b', 1), ('C', 0)] [('C', 0), ('b', 1), ('a', 2)]");
  EXPECT_EQ(render("{% for k, v in d | items %}{{ k }}{{ v }}{% endfor %}", d), "b1a2C0");
}

TEST(JinjaFilters, MapSelectReject) {
  const Json xs = {{"xs", {{{"name", "x"}}, {{"name", "y"}}}}};
  EXPECT_EQ(render("{{ xs | map(attribute='name') | join(',') }} {{ ['a','b'] | map('upper') | list }} "
                   "{{ xs | map(attribute='zz', default='-') | list }}",
                   xs),
            "x,y ['A', 'B'] ['-', '-']");
  EXPECT_EQ(
      render("{{ [1,2,3,4] | select('odd') | list }} {{ [1,2,3,4] | reject('odd') | list }} {{ [0,1,'',2] | "
             "select | list }} "
             "{{ ['a','b','a'] | reject('equalto','a') | list }} {{ [1,5,3] | select('gt', 2) | list }}"),
      "[1, 3] [2, 4] [1, 2] ['b'] [5, 3]");
  const Json ok = {{"xs", {{{"n", 1}, {"ok", true}}, {{"n", 2}, {"ok", false}}}}};
  EXPECT_EQ(render("{{ xs | selectattr('ok') | map(attribute='n') | list }} {{ xs | rejectattr('ok') | "
                   "map(attribute='n') | list }} "
                   "{{ xs | selectattr('n', 'equalto', 2) | list }}",
                   ok),
            "[1] [2] [{'n': 2, 'ok': False}]");
}

TEST(JinjaFilters, Conversions) {
  EXPECT_EQ(render("{{ 1.5 | int }} {{ '42' | int }} {{ '3.9' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ "
                   "'0x1A' | int(0, 16) }} "
                   "{{ '3' | float }} {{ 'x' | float }} {{ 2 | float }} {{ true | int }}"),
            "1 42 3 0 7 26 3.0 0.0 2.0 1");
  EXPECT_EQ(
      render("{{ -3 | abs }} {{ -2.5 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} "
             "{{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }} {{ 3 | round }}"),
      "3 2.5 2.0 4.0 2.67 3.0 2.0 3");
  EXPECT_EQ(render("{{ 12 | string }} {{ none | string }} {{ [1] | string }} {{ 1.0 | string }}"),
            "12 None [1] 1.0");
}

TEST(JinjaFilters, ToJsonMatchesPythonJsonDumps) {
  const Json x = {{"a", {1, 2.5, nullptr, true, "\xC3\xA9\n\"\\"}},
                  {"b", Json::object()},
                  {"c", Json::array()},
                  {"d", 1.0},
                  {"e", 1e20},
                  {"f", -0.0}};
  EXPECT_EQ(render("{{ x | tojson }}", {{"x", x}}),
            "{\"a\": [1, 2.5, null, true, \"\xC3\xA9\\n\\\"\\\\\"], \"b\": {}, \"c\": [], \"d\": 1.0, \"e\": "
            "1e+20, \"f\": -0.0}");
  EXPECT_EQ(render("{{ x | tojson(indent=2) }}",
                   {{"x", {{"a", {1, {{"b", Json::array()}}}}, {"c", Json::object()}}}}),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    }\n  ],\n  \"c\": {}\n}");
  const Json y = {{"x", {{"b", 1}, {"a", {1, 2}}}}};
  EXPECT_EQ(
      render("{{ x | tojson(indent=2, separators=(',', ':')) }}|{{ x | tojson(separators=(',', ':')) }}|"
             "{{ x | tojson(sort_keys=true) }}",
             y),
      "{\n  \"b\":1,\n  \"a\":[\n    1,\n    2\n  ]\n}|{\"b\":1,\"a\":[1,2]}|{\"a\": [1, 2], \"b\": 1}");
  EXPECT_EQ(render("{{ x | tojson(ensure_ascii=true) }}", {{"x", "\xC3\xA9\xF0\x9F\x98\x80\x7F\x01"}}),
            "\"\\u00e9\\ud83d\\ude00\\u007f\\u0001\"");
  EXPECT_EQ(render("{{ 'str' | tojson }} {{ 5 | tojson }} {{ none | tojson }} {{ (1, 2) | tojson }} {{ x | "
                   "tojson(indent='\\t') }}",
                   {{"x", {1}}}),
            "\"str\" 5 null [1, 2] [\n\t1\n]");
}

// ---- Python methods --------------------------------------------------------------------------------------

TEST(JinjaMethods, StringMethods) {
  EXPECT_EQ(
      render("{{ s.startswith('he') }} {{ s.endswith('lo') }} {{ s.startswith(('x', 'h')) }} {{ s.upper() }} "
             "{{ s.split('l') }} {{ ' a  b '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', "
             "1) }}",
             {{"s", "hello"}}),
      "True True True HELLO ['he', '', 'o'] ['a', 'b'] ['a', 'b,c'] ['a,b', 'c']");
  EXPECT_EQ(
      render("{{ '  x '.strip() }}|{{ 'xxyxx'.strip('x') }}|{{ '  x '.lstrip() }}|{{ '  x '.rstrip() }}|"
             "{{ 'aXbX'.replace('X', '-') }}|{{ 'hello world'.title() }}|{{ 'x'.capitalize() }}|{{ "
             "'AbC'.lower() }}"),
      "x|y|x |  x|a-b-|Hello World|X|abc");
  EXPECT_EQ(
      render(
          "{{ 'a{}b{}'.format(1, 'x') }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='Z') }} "
          "{{ '{{x}}'.format() }} {{ '{:>5}|{:<4}|{:^5}|{:.2f}|{:05d}'.format('a', 'b', 'c', 3.14159, 42) "
          "}}"),
      "a1bx aba Z! {x}     a|b   |  c  |3.14|00042");
  EXPECT_EQ(
      render(
          "{{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} "
          "{{ '-'.join(['a', 'b']) }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ '12'.isdigit() }}"),
      "2 3 -1 2 a-b ['a', 'b', 'c'] True");
}

TEST(JinjaMethods, DictAndListMethods) {
  EXPECT_EQ(render("{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} {{ d.keys() | list }} {{ "
                   "d.values() | list }} "
                   "{{ d.items() | list }}",
                   {{"d", {{"a", 1}, {"b", 2}}}}),
            "1 None dflt ['a', 'b'] [1, 2] [('a', 1), ('b', 2)]");
  EXPECT_EQ(
      render(
          "{{ [1,2,3].index(2) }} {{ [1,2,2].count(2) }} {% set l = [1] %}{% set _ = l.append(2) %}{{ l }}"),
      "1 2 [1, 2]");
}

// ---- globals ---------------------------------------------------------------------------------------------

TEST(JinjaGlobals, RangeNamespaceDict) {
  EXPECT_EQ(render("{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }} {{ range(0) "
                   "| list }}"),
            "[0, 1, 2] [1, 2, 3] [10, 7, 4, 1] []");
  EXPECT_EQ(render("{% set ns = namespace(a=1) %}{% set ns.b = ns.a + 1 %}{{ ns.a }}{{ ns.b }} {{ dict(a=1) "
                   "| tojson }}"),
            "12 {\"a\": 1}");
}

TEST(JinjaGlobals, RaiseExceptionCarriesTheMessage) {
  try {
    render("before{% if true %}{{ raise_exception('bad thing: ' ~ 3) }}{% endif %}");
    FAIL() << "expected TemplateRaisedError";
  } catch (const TemplateRaisedError& e) {
    EXPECT_EQ(e.message(), "bad thing: 3");
    EXPECT_STREQ(e.what(), "bad thing: 3");
  }
}

TEST(JinjaGlobals, StrftimeNowUsesTheInjectedClock) {
  ChatTemplateOptions options;
  options.clock = [] {
    std::tm tm{};
    tm.tm_year = 2024 - 1900;
    tm.tm_mon = 6;
    tm.tm_mday = 26;
    tm.tm_hour = 12;
    tm.tm_isdst = -1;
    return std::chrono::system_clock::from_time_t(std::mktime(&tm));  // local time, like strftime_now
  };
  const ChatTemplate t("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %A') }}", options);
  EXPECT_EQ(t.render(Json::array()), "26 Jul 2024|2024-07-26 Friday");
}

// ---- real chat-template idioms ---------------------------------------------------------------------------

TEST(JinjaIdioms, ChatTemplatePatterns) {
  const Json msgs = {{"messages",
                      {{{"role", "system"}, {"content", "S"}},
                       {{"role", "user"}, {"content", "u"}},
                       {{"role", "assistant"}, {"content", "a"}}}}};
  EXPECT_EQ(
      render(
          "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}"
          "{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}"
          "{{ system_message | default('none') }}:{% for m in loop_messages %}{{ m.role }}"
          "{% if not loop.last %},{% endif %}{% endfor %}",
          msgs),
      "S:user,assistant");
  EXPECT_EQ(render("{{ content if content is string else content | map(attribute='text') | join('') }}",
                   {{"content", {{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}}}}),
            "ab");
  EXPECT_EQ(render("{%- for tool in tools %}{{- tool.function.name }}({% for name, p in "
                   "tool.function.parameters.properties | items %}"
                   "{{ name }}: {{ p.type }}{{ ', ' if not loop.last }}{% endfor %}){% endfor %}",
                   {{"tools",
                     {{{"function",
                        {{"name", "f"},
                         {"parameters",
                          {{"properties", {{"a", {{"type", "string"}}}, {"b", {{"type", "int"}}}}}}}}}}}}}),
            "f(a: string, b: int)");
}

TEST(JinjaIdioms, CompileOnceRenderMany) {
  const Template t("{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}{% endfor %}");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.render(Json{{"messages", {{{"role", "user"}, {"content", " hi " + std::to_string(i)}}}}}),
              "<user>hi " + std::to_string(i));
  }
}

// ---- errors ----------------------------------------------------------------------------------------------

TEST(JinjaErrors, SyntaxErrorsCarryLineAndColumn) {
  EXPECT_EQ(error_of("line one\n{% for x in [1] %}{{ x }}"),
            "2:1: unclosed 'for' block: expected '{% endfor %}' before the end of the template");
  EXPECT_EQ(error_of("abc {{ x "), "1:5: unclosed tag '{{' (missing '}}')");
  EXPECT_EQ(error_of("{% if x %}\n  {% if y %}"),
            "2:3: unclosed 'if' block: expected '{% endif %}' before the end of the template");
  EXPECT_EQ(error_of("{# never closed"), "1:1: unclosed comment (missing '#}')");
  EXPECT_EQ(error_of("a\n  {{ x | nofilter }}"), "2:10: unknown filter 'nofilter'");
  EXPECT_EQ(error_of("{{ x is notatest }}"), "1:9: unknown test 'notatest'");
  EXPECT_EQ(error_of("{{ 1 + }}"), "1:8: expected an expression, got '}}'");
  EXPECT_EQ(error_of("{{ (1, 2 }}"), "1:10: expected ')', got '}}'");
  EXPECT_EQ(error_of("{{ 1 2 }}"), "1:6: expected '}}', got '2'");
  EXPECT_EQ(error_of("{% if x %}a{% else %}b{% else %}c{% endif %}"),
            "1:26: unexpected 'else' (expected 'endif')");
  EXPECT_EQ(error_of("{% endif %}"), "1:4: unexpected 'endif'");
  EXPECT_EQ(error_of("{% foo %}"), "1:4: unknown tag 'foo'");
  EXPECT_EQ(error_of("{{ 'unterminated }}"), "1:4: unterminated string literal");
  EXPECT_EQ(error_of("{% break %}"), "1:4: 'break' outside of a loop");
  EXPECT_EQ(error_of("{{ x $ y }}"), "1:6: unexpected character '$'");
}

TEST(JinjaErrors, RuntimeErrorsCarryLineAndColumn) {
  EXPECT_EQ(error_of("{{ 'a' + 1 }}"), "1:8: can only concatenate str (not \"int\") to str");
  EXPECT_EQ(error_of("\n{{ 1 / 0 }}"), "2:6: division by zero");
  EXPECT_EQ(error_of("{{ foo(1) }}"), "1:4: 'foo' is undefined");
  EXPECT_EQ(error_of("{{ x.y.z }}", {{"x", Json::object()}}), "1:7: 'dict object' has no attribute 'y'");
  EXPECT_EQ(error_of("{{ 5() }}"), "1:4: 'int' object is not callable");
  EXPECT_EQ(error_of("{% for x in 5 %}{% endfor %}"), "1:13: 'int' object is not iterable");
  EXPECT_EQ(error_of("{% set x = 1 %}{% set x.y = 2 %}"),
            "1:16: cannot assign attribute on non-namespace object");
  EXPECT_EQ(error_of("{{ u | tojson }}"), "1:8: Object of type Undefined is not JSON serializable");
  EXPECT_EQ(error_of("{{ [1, 'a'] | sort }}"),
            "1:15: '<' not supported between instances of 'str' and 'int'");
}

// ---- helpers ---------------------------------------------------------------------------------------------

TEST(JinjaHelpers, PythonFloatRepr) {
  EXPECT_EQ(python_float_repr(1.0), "1.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(python_float_repr(1.5e-5), "1.5e-05");
  EXPECT_EQ(python_float_repr(-2.5), "-2.5");
}

TEST(JinjaHelpers, DumpJsonDefaultsToPythonSeparators) {
  Dict d;
  d.set("k", Value::list({Value(1), Value("x")}));
  EXPECT_EQ(dump_json(Value::dict(d)), "{\"k\": [1, \"x\"]}");
}

}  // namespace
}  // namespace chorus::inference::jinja
