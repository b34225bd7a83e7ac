// HTML-to-text extraction, entity decoding, UTF-8 repair, and the URL helpers of the HTTP client.
#include "tools/html-text.h"
#include "tools/http-client.h"

#include <gtest/gtest.h>

namespace chorus::tools {
namespace {

TEST(HtmlText, DropsHeadScriptsStylesAndComments) {
  const HtmlText page = html_to_text(
      "<html><head><title>  My\n Page </title><style>p{color:red}</style><script>var x = '<p>no</p>';</script>"
      "</head><body><!-- hidden --><p>Visible</p><noscript>Enable JS</noscript><template><p>tpl</p></template>"
      "<svg><title>icon</title><text>svg</text></svg><p>End</p></body></html>");
  EXPECT_EQ(page.title, "My Page");
  EXPECT_EQ(page.text, "Visible\n\nEnd");
}

TEST(HtmlText, TurnsBlocksIntoLinesAndCollapsesWhitespace) {
  const HtmlText page = html_to_text(
      "<body><h1>Title</h1>\n  <p>one   two\n three</p><div>a</div><div>b<br>c</div>"
      "<ul><li>x</li><li>y <b>bold</b></li></ul><table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>"
      "</body>");
  EXPECT_EQ(page.text, "Title\n\none two three\n\na\nb\nc\n\n- x\n- y bold\n\n1 2\n3");
}

TEST(HtmlText, ScriptEndIsFoundCaseInsensitivelyAndAttributesMayHoldAngleBrackets) {
  const HtmlText page = html_to_text(
      "<p title=\"a > b\" data-x='<'>kept</p><SCRIPT>if (a < b) {}</ScRiPt><p>after</p> 3 < 4");
  EXPECT_EQ(page.text, "kept\n\nafter\n\n3 < 4");
}

TEST(HtmlText, HandlesUnterminatedInput) {
  EXPECT_EQ(html_to_text("<p>cut <b>here").text, "cut here");
  EXPECT_EQ(html_to_text("<p>open <script>never closed").text, "open");
  EXPECT_EQ(html_to_text("<p>text <!-- open comment").text, "text");
  EXPECT_EQ(html_to_text("").text, "");
}

TEST(HtmlText, DecodesNamedAndNumericEntities) {
  EXPECT_EQ(decode_html_entities("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"), "a & b <c> \"d\" 'e'");
  EXPECT_EQ(decode_html_entities("&#65;&#x42;&#X43; &#8212; &#x1F600;"), "ABC \u2014 \U0001F600");
  EXPECT_EQ(decode_html_entities("&eacute;t&eacute; &euro;5 &copy;&nbsp;x"), "\u00e9t\u00e9 \u20ac5 \u00a9 x");
  EXPECT_EQ(decode_html_entities("&unknown; & &amp &#xZZ; &#;"), "&unknown; & &amp &#xZZ; &#;");
  EXPECT_EQ(decode_html_entities("&#0;&#xD800;&#x110000;"), "\uFFFD\uFFFD\uFFFD");
}

TEST(HtmlText, EntityInTextBecomesTextNotMarkup) {
  EXPECT_EQ(html_to_text("<p>&lt;p&gt;literal&lt;/p&gt;</p>").text, "<p>literal</p>");
}

TEST(HtmlText, CollapseWhitespaceTrims) {
  EXPECT_EQ(collapse_whitespace("  a \t\n b  "), "a b");
  EXPECT_EQ(collapse_whitespace(" \n "), "");
}

TEST(HtmlText, RepairsInvalidUtf8) {
  EXPECT_EQ(to_valid_utf8("ok \u00e9 \U0001F600"), "ok \u00e9 \U0001F600");
  EXPECT_EQ(to_valid_utf8("latin1 caf\xe9!"), "latin1 caf\uFFFD!");
  EXPECT_EQ(to_valid_utf8("cut \xe2\x82"), "cut \uFFFD\uFFFD");
  EXPECT_EQ(to_valid_utf8("overlong \xc0\xaf"), "overlong \uFFFD\uFFFD");
}

TEST(UrlHelpers, EncodesEverythingButUnreserved) {
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_encode("a b&c=d/e?f#g+h%"), "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25");
  EXPECT_EQ(url_encode("all:\"x\""), "all%3A%22x%22");
  EXPECT_EQ(url_encode("\u00e9"), "%C3%A9");
}

TEST(UrlHelpers, BuildsQueryStrings) {
  EXPECT_EQ(build_url("http://h/p", {}), "http://h/p");
  EXPECT_EQ(build_url("http://h/p", {{"q", "a b"}, {"n", "1"}}), "http://h/p?q=a%20b&n=1");
  EXPECT_EQ(build_url("http://h/p?x=1", {{"q", "&"}}), "http://h/p?x=1&q=%26");
  EXPECT_EQ(build_url("http://h/p?", {{"q", "1"}}), "http://h/p?q=1");
}

TEST(UrlHelpers, ParsesUrls) {
  const UrlParts parts = parse_url("HTTPS://Example.ORG:8443/a/b?x=1%202");
  EXPECT_EQ(parts.scheme, "https");
  EXPECT_EQ(parts.host, "example.org");
  EXPECT_EQ(parts.port, 8443);
  EXPECT_EQ(parts.path, "/a/b");
  EXPECT_EQ(parts.query, "x=1%202");
  EXPECT_EQ(parse_url("http://example.org").port, 80);
  EXPECT_EQ(parse_url("http://example.org").path, "/");
  EXPECT_EQ(parse_url("http://[::1]:9/").host, "::1");
  EXPECT_THROW(parse_url("not a url"), HttpError);
  try {
    parse_url("/relative/only");
    FAIL() << "expected HttpError";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.kind(), HttpErrorKind::invalid_url);
  }
}

TEST(UrlHelpers, ResolvesRedirectTargets) {
  EXPECT_EQ(resolve_url("http://h/a/b?x=1", "/c"), "http://h/c");
  EXPECT_EQ(resolve_url("http://h/a/b", "c"), "http://h/a/c");
  EXPECT_EQ(resolve_url("http://h/a/b", "https://other.org/z"), "https://other.org/z");
  EXPECT_EQ(resolve_url("https://h/a", "//cdn.example/x"), "https://cdn.example/x");
}

TEST(UrlHelpers, MatchesHostAllowlists) {
  EXPECT_TRUE(host_allowed("anything.org", {}));
  EXPECT_TRUE(host_allowed("anything.org", {"*"}));
  EXPECT_TRUE(host_allowed("Example.org", {"example.org"}));
  EXPECT_FALSE(host_allowed("evil-example.org", {"example.org"}));
  EXPECT_FALSE(host_allowed("sub.example.org", {"example.org"}));
  EXPECT_TRUE(host_allowed("sub.example.org", {"*.example.org"}));
  EXPECT_TRUE(host_allowed("a.b.example.org", {"*.example.org"}));
  EXPECT_FALSE(host_allowed("example.org", {"*.example.org"}));
  EXPECT_FALSE(host_allowed("badexample.org", {"*.example.org"}));
  EXPECT_EQ(split_host_list(" A.org, ,*.b.org,"), (std::vector<std::string>{"a.org", "*.b.org"}));
  EXPECT_TRUE(split_host_list("").empty());
}

}  // namespace
}  // namespace chorus::tools
