#include "tools/calendar.h"

#include "tools/text-util.h"

#include <date/date.h>
#include <date/iso_week.h>
#include <date/tz.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::tools {
namespace {

using date::sys_days;
using nlohmann::json;

const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
const char* const kWeekdays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                 "Thursday", "Friday", "Saturday"};
const char* const kOperations[] = {"today", "add", "diff", "weekday", "iso_week", "business_days", "parse"};
constexpr std::int64_t kMaxAmount = 10'000'000;

[[noreturn]] void fail(std::string message) {
  throw ToolError(std::move(message));
}

std::string pad(long long v, std::size_t width) {
  std::string s = std::to_string(v < 0 ? -v : v);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return (v < 0 ? "-" : "") + s;
}

std::string format_date(sys_days d) {
  const date::year_month_day ymd{d};
  return pad(int(ymd.year()), 4) + "-" + pad(unsigned(ymd.month()), 2) + "-" + pad(unsigned(ymd.day()), 2);
}

// "+05:30", "-08:00", "+00:00".
std::string format_offset(std::chrono::seconds offset) {
  const long long minutes = std::chrono::duration_cast<std::chrono::minutes>(offset).count();
  const long long m = minutes < 0 ? -minutes : minutes;
  return (minutes < 0 ? "-" : "+") + pad(m / 60, 2) + ":" + pad(m % 60, 2);
}

std::string format_time(std::chrono::seconds since_midnight) {
  const long long s = since_midnight.count();
  return pad(s / 3600, 2) + ":" + pad(s / 60 % 60, 2) + ":" + pad(s % 60, 2);
}

// The facts every operation reports about a day.
json describe_day(sys_days d) {
  const date::year_month_day ymd{d};
  const date::weekday wd{d};
  const iso_week::year_weeknum_weekday iw{d};
  return {{"date", format_date(d)},
          {"weekday", kWeekdays[wd.c_encoding()]},
          {"iso_weekday", wd.iso_encoding()},
          {"iso_week", pad(int(iw.year()), 4) + "-W" + pad(unsigned(iw.weeknum()), 2)},
          {"day_of_year", (d - sys_days{ymd.year() / 1 / 1}).count() + 1}};
}

// ---- reading dates --------------------------------------------------------------------------------

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t k = at; k < at + n; ++k) {
    if (s[k] < '0' || s[k] > '9') return false;
    out = out * 10 + (s[k] - '0');
  }
  return true;
}

sys_days make_date(int y, int m, int d, const std::string& field, std::string_view text) {
  auto bad = [&](const std::string& why) {
    fail("'" + field + "': '" + std::string(text) + "' is not a valid date: " + why);
  };
  if (y < 1 || y > 9999) bad("the year must be from 0001 to 9999");
  if (m < 1 || m > 12) bad("there is no month " + pad(m, 2));
  const unsigned last = unsigned((date::year{y} / date::month(unsigned(m)) / date::last).day());
  if (d < 1 || unsigned(d) > last)
    bad(d < 1 ? "there is no day 00"
              : std::string(kMonths[m - 1]) + " " + std::to_string(y) + " has " + std::to_string(last) +
                    " days");
  return date::year{y} / date::month(unsigned(m)) / date::day(unsigned(d));
}

// A YYYY-MM-DD string; errors name `field`.
sys_days parse_date(std::string_view text, const std::string& field) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || !digits(text, 0, 4, y) || text[4] != '-' || !digits(text, 5, 2, m) ||
      text[7] != '-' || !digits(text, 8, 2, d))
    fail("'" + field + "': '" + std::string(text) + "' is not a date in YYYY-MM-DD form");
  return make_date(y, m, d, field, text);
}

// An ISO 8601 date, optionally with a time and a UTC offset (the "parse" operation).
json parse_timestamp(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  auto shape = [&]() {
    fail("'text': cannot read '" + std::string(text) +
         "' as an ISO 8601 date; expected YYYY-MM-DD, YYYYMMDD or YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm]");
  };
  int y = 0, m = 0, d = 0;
  std::size_t i = 0;
  if (digits(text, 0, 4, y) && text.size() >= 10 && text[4] == '-' && digits(text, 5, 2, m) &&
      text[7] == '-' && digits(text, 8, 2, d))
    i = 10;
  else if (digits(text, 0, 4, y) && digits(text, 4, 2, m) && digits(text, 6, 2, d))
    i = 8;
  else
    shape();
  const sys_days day = make_date(y, m, d, "text", text.substr(0, i));
  json out = describe_day(day);
  if (i == text.size()) return out;

  if (text[i] != 'T' && text[i] != 't' && text[i] != ' ') shape();
  int hh = 0, mm = 0, ss = 0;
  if (!digits(text, ++i, 2, hh)) shape();
  i += 2;
  if (i < text.size() && text[i] == ':') ++i;
  if (!digits(text, i, 2, mm)) shape();
  i += 2;
  std::string fraction;
  if (i < text.size() && (text[i] == ':' || (text[i] >= '0' && text[i] <= '9'))) {
    if (text[i] == ':') ++i;
    if (!digits(text, i, 2, ss)) shape();
    i += 2;
    if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
      std::size_t end = i + 1;
      while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
      if (end == i + 1) shape();
      fraction = "." + std::string(text.substr(i + 1, end - i - 1));
      i = end;
    }
  }
  std::optional<int> offset_minutes;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    offset_minutes = 0;
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    const int sign = text[i] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!digits(text, ++i, 2, oh)) shape();
    i += 2;
    if (i < text.size() && text[i] == ':') ++i;
    if (i < text.size()) {
      if (!digits(text, i, 2, om)) shape();
      i += 2;
    }
    if (oh > 23 || om > 59) fail("'text': the UTC offset in '" + std::string(text) + "' is out of range");
    offset_minutes = sign * (oh * 60 + om);
  }
  if (i != text.size()) shape();
  if (hh > 23) fail("'text': hour " + pad(hh, 2) + " is out of range 00-23");
  if (mm > 59) fail("'text': minute " + pad(mm, 2) + " is out of range 00-59");
  if (ss > 59) fail("'text': second " + pad(ss, 2) + " is out of range 00-59");

  const std::chrono::seconds clock{hh * 3600 + mm * 60 + ss};
  out["time"] = format_time(clock) + fraction;
  if (offset_minutes) {
    const std::chrono::seconds offset{*offset_minutes * 60};
    out["utc_offset"] = format_offset(offset);
    const auto utc = date::sys_seconds{day} + clock - offset;
    const auto utc_day = date::floor<date::days>(utc);
    out["utc"] = format_date(utc_day) + "T" + format_time(utc - utc_day) + fraction + "Z";
  }
  return out;
}

// ---- arguments ------------------------------------------------------------------------------------

const json& arg(const json& args, const std::string& key, const std::string& op) {
  auto it = args.find(key);
  if (it == args.end()) fail("'" + key + "' is required for operation '" + op + "'");
  return *it;
}

std::string string_arg(const json& args, const std::string& key, const std::string& op) {
  const json& v = arg(args, key, op);
  if (!v.is_string()) fail("'" + key + "' must be a string");
  return v.get<std::string>();
}

sys_days date_arg(const json& args, const std::string& key, const std::string& op) {
  return parse_date(string_arg(args, key, op), key);
}

// ---- time zones -----------------------------------------------------------------------------------


// The zone named `name`; a case-insensitive exact match is accepted, anything else suggests the closest.
const date::time_zone* find_zone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
  }
  std::vector<std::string> names;
  const auto& db = date::get_tzdb();
  for (const auto& z : db.zones) names.push_back(z.name());  // with the OS database, links are zones too
  const std::string wanted = ascii_lower(name);
  std::string best;
  std::size_t best_distance = wanted.size() / 5 + 1;
  for (const auto& n : names) {
    const std::size_t d = edit_distance(wanted, ascii_lower(n));
    if (d == 0) return date::locate_zone(n);
    if (d < best_distance) best = n, best_distance = d;
  }
  fail("unknown time zone '" + name + "'" + (best.empty() ? "" : "; did you mean '" + best + "'?") +
       " (use an IANA name such as 'Europe/Paris', 'America/New_York' or 'UTC')");
}

// ---- operations -----------------------------------------------------------------------------------

json today(const json& args, const Clock& now) {
  std::string name = "UTC";
  if (args.contains("timezone")) name = string_arg(args, "timezone", "today");
  const date::time_zone* zone = find_zone(name);
  const auto zoned = date::make_zoned(zone, std::chrono::floor<std::chrono::seconds>(now()));
  const auto local = zoned.get_local_time();
  const auto local_day = date::floor<date::days>(local);
  const auto info = zoned.get_info();
  json out = describe_day(sys_days{local_day.time_since_epoch()});
  out["timezone"] = zone->name();
  out["time"] = format_time(local - local_day);
  out["utc_offset"] = format_offset(info.offset);
  out["abbreviation"] = info.abbrev;
  return out;
}

// `d` moved by `months` calendar months, clamped to the end of a shorter month; nullopt outside 0001-9999.
std::optional<sys_days> shift_months(sys_days d, std::int64_t months, bool* clamped = nullptr) {
  const date::year_month_day ymd{d};
  const std::int64_t total = std::int64_t{int(ymd.year())} * 12 + (unsigned(ymd.month()) - 1) + months;
  const std::int64_t y = total >= 0 ? total / 12 : (total - 11) / 12;
  if (y < 1 || y > 9999) return std::nullopt;
  const date::year_month ym{date::year{int(y)}, date::month(unsigned(total - y * 12 + 1))};
  const date::day last = (ym / date::last).day();
  if (clamped) *clamped = ymd.day() > last;
  return sys_days{ym / std::min(ymd.day(), last)};
}

json add(const json& args) {
  const sys_days start = date_arg(args, "date", "add");
  const json& amount_json = arg(args, "amount", "add");
  if (!amount_json.is_number_integer()) fail("'amount' must be an integer");
  const std::int64_t amount = amount_json.get<std::int64_t>();
  if (amount < -kMaxAmount || amount > kMaxAmount)
    fail("'amount' must be between -" + std::to_string(kMaxAmount) + " and " + std::to_string(kMaxAmount));
  std::string unit = string_arg(args, "unit", "add");
  if (!unit.empty() && unit.back() != 's') unit += 's';  // "day" -> "days"
  bool clamped = false;
  std::optional<sys_days> result;
  if (unit == "days" || unit == "weeks") {
    const std::int64_t serial = start.time_since_epoch().count() + amount * (unit == "weeks" ? 7 : 1);
    const sys_days first = date::year{1} / 1 / 1, last = date::year{9999} / 12 / 31;
    if (serial >= first.time_since_epoch().count() && serial <= last.time_since_epoch().count())
      result = sys_days{date::days{serial}};
  } else if (unit == "months" || unit == "years") {
    result = shift_months(start, amount * (unit == "years" ? 12 : 1), &clamped);
  } else {
    fail("'unit' must be one of days, weeks, months, years; got '" + string_arg(args, "unit", "add") + "'");
  }
  if (!result)
    fail("the result of " + format_date(start) + " + " + std::to_string(amount) + " " + unit +
         " is outside the supported years 0001-9999");
  json out = describe_day(*result);
  out["clamped"] = clamped;
  return out;
}

json diff(const json& args) {
  const sys_days start = date_arg(args, "start", "diff"), end = date_arg(args, "end", "diff");
  const long long days = (end - start).count();
  const sys_days lo = std::min(start, end), hi = std::max(start, end);
  const date::year_month_day a{lo}, b{hi};
  std::int64_t months =
      (int(b.year()) - int(a.year())) * 12 + (int(unsigned(b.month())) - int(unsigned(a.month())));
  if (*shift_months(lo, months) > hi) --months;
  const long long rest = (hi - *shift_months(lo, months)).count();
  const int sign = days < 0 ? -1 : 1;
  return {{"start", format_date(start)},
          {"end", format_date(end)},
          {"days", days},
          {"weeks", days / 7},
          {"remainder_days", days % 7},
          {"breakdown",
           {{"years", sign * (months / 12)}, {"months", sign * (months % 12)}, {"days", sign * rest}}}};
}

bool is_weekend(sys_days d) {
  const date::weekday wd{d};
  return wd == date::Saturday || wd == date::Sunday;
}

json business_days(const json& args) {
  const sys_days start = date_arg(args, "start", "business_days"),
                 end = date_arg(args, "end", "business_days");
  const sys_days lo = std::min(start, end), hi = std::max(start, end);
  const long long span = (hi - lo).count();
  long long weekdays = span / 7 * 5;
  for (sys_days d = lo + date::days{span / 7 * 7}; d < hi; d += date::days{1})
    if (!is_weekend(d)) ++weekdays;
  std::set<sys_days> holidays;
  if (args.contains("holidays")) {
    const json& list = args["holidays"];
    if (!list.is_array()) fail("'holidays' must be an array of YYYY-MM-DD dates");
    for (std::size_t k = 0; k < list.size(); ++k) {
      const std::string field = "holidays[" + std::to_string(k) + "]";
      if (!list[k].is_string()) fail("'" + field + "' must be a string");
      holidays.insert(parse_date(list[k].get<std::string>(), field));
    }
  }
  long long excluded = 0;
  for (sys_days h : holidays)
    if (h >= lo && h < hi && !is_weekend(h)) ++excluded;
  const int sign = end < start ? -1 : 1;
  return {{"start", format_date(start)},
          {"end", format_date(end)},
          {"business_days", sign * (weekdays - excluded)},
          {"holidays_excluded", excluded},
          {"calendar_days", (end - start).count()}};
}

json iso_week_of(const json& args) {
  const sys_days d = date_arg(args, "date", "iso_week");
  const iso_week::year_weeknum_weekday iw{d};
  json out = describe_day(d);
  out["iso_year"] = int(iw.year());
  out["week"] = unsigned(iw.weeknum());
  out["iso_week_date"] = out["iso_week"].get<std::string>() + "-" + std::to_string(unsigned(iw.weekday()));
  return out;
}

// ---- schema ---------------------------------------------------------------------------------------

json date_schema(const char* description) {
  return {{"type", "string"}, {"pattern", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}, {"description", description}};
}

json parameters_schema() {
  json properties = {
      {"operation",
       {{"type", "string"},
        {"enum", kOperations},
        {"description", "today | add | diff | weekday | iso_week | business_days | parse"}}},
      {"timezone",
       {{"type", "string"}, {"description", "today: IANA time zone such as Europe/Paris (default UTC)"}}},
      {"date", date_schema("add, weekday, iso_week: the date, YYYY-MM-DD")},
      {"amount",
       {{"type", "integer"},
        {"minimum", -kMaxAmount},
        {"maximum", kMaxAmount},
        {"description", "add: how many units to add (negative to subtract)"}}},
      {"unit",
       {{"type", "string"},
        {"enum", {"days", "weeks", "months", "years", "day", "week", "month", "year"}},
        {"description", "add: days, weeks, months or years (months and years clamp to the month's end)"}}},
      {"start", date_schema("diff, business_days: first date, YYYY-MM-DD")},
      {"end", date_schema("diff, business_days: second date, YYYY-MM-DD (business_days excludes it)")},
      {"holidays",
       {{"type", "array"},
        {"items", date_schema("a holiday, YYYY-MM-DD")},
        {"description", "business_days: dates that are not business days"}}},
      {"text",
       {{"type", "string"},
        {"minLength", 1},
        {"description",
         "parse: an ISO 8601 date such as 2024-03-05, 20240305 or 2024-03-05T10:20:30+02:00"}}}};
  // Per operation: the required fields and all allowed fields. Chained if/then/else rather than a
  // top-level oneOf, which OpenAI and Anthropic refuse in function parameters.
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> fields = {
      {{}, {"timezone"}},
      {{"date", "amount", "unit"}, {"date", "amount", "unit"}},
      {{"start", "end"}, {"start", "end"}},
      {{"date"}, {"date"}},
      {{"date"}, {"date"}},
      {{"start", "end"}, {"start", "end", "holidays"}},
      {{"text"}, {"text"}}};
  json chain = json::object();
  for (std::size_t k = fields.size(); k-- > 0;) {
    json allowed = fields[k].second;
    allowed.push_back("operation");
    json branch = {
        {"if", {{"properties", {{"operation", {{"const", kOperations[k]}}}}}, {"required", {"operation"}}}},
        {"then", {{"required", fields[k].first}, {"propertyNames", {{"enum", allowed}}}}}};
    if (!chain.empty()) branch["else"] = chain;
    chain = branch;
  }
  json schema = {{"type", "object"},
                 {"properties", properties},
                 {"required", {"operation"}},
                 {"additionalProperties", false}};
  schema.update(chain);
  return schema;
}

json result_schema() {
  return {{"type", "object"},
          {"properties",
           {{"operation", {{"type", "string"}}},
            {"date", {{"type", "string"}}},
            {"weekday", {{"type", "string"}}},
            {"iso_weekday", {{"type", "integer"}, {"minimum", 1}, {"maximum", 7}}},
            {"iso_week", {{"type", "string"}}},
            {"days", {{"type", "integer"}}},
            {"business_days", {{"type", "integer"}}}}},
          {"required", {"operation"}}};
}

}  // namespace

Tool make_calendar_tool(Clock now) {
  Tool tool;
  tool.spec.name = "calendar";
  tool.spec.description =
      "Date arithmetic on ISO dates (YYYY-MM-DD). operation: today (current date in a time zone), add (days, "
      "weeks, months or years; months and years clamp to the end of the month, so 2024-01-31 + 1 month = "
      "2024-02-29), diff (days between two dates, with a years/months/days breakdown), weekday, iso_week, "
      "business_days (Monday-Friday in [start, end), minus holidays) and parse (read an ISO 8601 date or "
      "timestamp).";
  tool.spec.parameters = parameters_schema();
  tool.spec.result_schema = result_schema();
  tool.handler = [now = std::move(now)](const json& args) {
    if (!args.is_object()) fail("the arguments must be an object");
    if (!args.contains("operation") || !args["operation"].is_string())
      fail("'operation' is required: one of today, add, diff, weekday, iso_week, business_days, parse");
    const std::string op = args["operation"].get<std::string>();
    json out;
    if (op == "today")
      out = today(args, now);
    else if (op == "add")
      out = add(args);
    else if (op == "diff")
      out = diff(args);
    else if (op == "weekday")
      out = describe_day(date_arg(args, "date", op));
    else if (op == "iso_week")
      out = iso_week_of(args);
    else if (op == "business_days")
      out = business_days(args);
    else if (op == "parse")
      out = parse_timestamp(string_arg(args, "text", op));
    else
      fail("unknown operation '" + op +
           "'; expected one of today, add, diff, weekday, iso_week, business_days, parse");
    out["operation"] = op;
    return out;
  };
  return tool;
}

}  // namespace chorus::tools
