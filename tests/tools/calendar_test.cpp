// Calendar tool: today (injected clock, time zones), add, diff, weekday, iso_week, business_days, parse.
#include "tools/calendar.h"
#include "tools/tool-registry.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace chorus::tools {
namespace {

using nlohmann::json;
using namespace std::chrono;

// 2024-03-31 is the day Europe moves to summer time (01:00 UTC); 00:30 UTC is still winter time there.
system_clock::time_point at_utc(int y, unsigned m, unsigned d, int hours, int minutes) {
  return sys_days{year{y} / month{m} / day{d}} + std::chrono::hours{hours} + std::chrono::minutes{minutes};
}

class CalendarTest : public ::testing::Test {
 protected:
  system_clock::time_point now_ = at_utc(2024, 3, 31, 0, 30);
  Tool tool_ = make_calendar_tool([this] { return now_; });

  json run(json args) { return tool_.handler(args); }

  // The ToolError message for `args`, or "no error: <result>".
  std::string error_of(json args) {
    try {
      return "no error: " + tool_.handler(args).dump();
    } catch (const ToolError& e) {
      return e.what();
    }
  }
};

#define EXPECT_ERROR(args, fragment)                                                            \
  do {                                                                                          \
    const std::string message_ = error_of(args);                                                \
    EXPECT_NE(message_.find(fragment), std::string::npos) << (args).dump() << "\n" << message_; \
  } while (0)

json add(const std::string& date, long long amount, const std::string& unit) {
  return {{"operation", "add"}, {"date", date}, {"amount", amount}, {"unit", unit}};
}
json two(const char* op, const std::string& start, const std::string& end) {
  return {{"operation", op}, {"start", start}, {"end", end}};
}
json one(const char* op, const std::string& date) {
  return {{"operation", op}, {"date", date}};
}
json parse(const std::string& text) {
  return {{"operation", "parse"}, {"text", text}};
}

// ---- today ----------------------------------------------------------------------------------------

TEST_F(CalendarTest, TodayDefaultsToUtc) {
  const json out = run({{"operation", "today"}});
  EXPECT_EQ(out["operation"], "today");
  EXPECT_EQ(out["date"], "2024-03-31");
  EXPECT_EQ(out["weekday"], "Sunday");
  EXPECT_EQ(out["iso_weekday"], 7);
  EXPECT_EQ(out["iso_week"], "2024-W13");
  EXPECT_EQ(out["day_of_year"], 91);
  EXPECT_EQ(out["timezone"], "UTC");
  EXPECT_EQ(out["time"], "00:30:00");
  EXPECT_EQ(out["utc_offset"], "+00:00");
}

TEST_F(CalendarTest, TodayInOtherZonesAcrossDaylightSaving) {
  json paris = run({{"operation", "today"}, {"timezone", "Europe/Paris"}});
  EXPECT_EQ(paris["date"], "2024-03-31");
  EXPECT_EQ(paris["time"], "01:30:00");
  EXPECT_EQ(paris["utc_offset"], "+01:00");
  EXPECT_EQ(paris["abbreviation"], "CET");
  now_ = at_utc(2024, 3, 31, 1, 30);  // an hour later, after the switch
  paris = run({{"operation", "today"}, {"timezone", "Europe/Paris"}});
  EXPECT_EQ(paris["time"], "03:30:00");
  EXPECT_EQ(paris["utc_offset"], "+02:00");
  EXPECT_EQ(paris["abbreviation"], "CEST");
}

TEST_F(CalendarTest, TodayCanBeAnotherDateElsewhere) {
  const json la = run({{"operation", "today"}, {"timezone", "America/Los_Angeles"}});
  EXPECT_EQ(la["date"], "2024-03-30");
  EXPECT_EQ(la["weekday"], "Saturday");
  EXPECT_EQ(la["time"], "17:30:00");
  EXPECT_EQ(la["utc_offset"], "-07:00");
  const json kiritimati = run({{"operation", "today"}, {"timezone", "Pacific/Kiritimati"}});
  EXPECT_EQ(kiritimati["date"], "2024-03-31");
  EXPECT_EQ(kiritimati["time"], "14:30:00");
  EXPECT_EQ(kiritimati["utc_offset"], "+14:00");
  const json kolkata = run({{"operation", "today"}, {"timezone", "Asia/Kolkata"}});
  EXPECT_EQ(kolkata["utc_offset"], "+05:30");
  now_ = at_utc(2020, 12, 31, 23, 0);
  const json tokyo = run({{"operation", "today"}, {"timezone", "Asia/Tokyo"}});
  EXPECT_EQ(tokyo["date"], "2021-01-01");
  EXPECT_EQ(tokyo["iso_week"], "2020-W53");
}

TEST_F(CalendarTest, TodayWithBadZones) {
  EXPECT_ERROR((json{{"operation", "today"}, {"timezone", "Mars/Olympus_Mons"}}),
               "unknown time zone 'Mars/Olympus_Mons'");
  EXPECT_ERROR((json{{"operation", "today"}, {"timezone", "America/NewYork"}}),
               "did you mean 'America/New_York'?");
  EXPECT_ERROR((json{{"operation", "today"}, {"timezone", ""}}), "unknown time zone ''");
  const std::string pst = error_of({{"operation", "today"}, {"timezone", "PST"}});
  EXPECT_NE(pst.find("use an IANA name"), std::string::npos) << pst;
  EXPECT_EQ(pst.find("did you mean"), std::string::npos) << pst;  // no misleading "EST"
}

TEST_F(CalendarTest, TodayAcceptsAZoneNameInAnotherCase) {
  EXPECT_EQ(run({{"operation", "today"}, {"timezone", "europe/paris"}})["timezone"], "Europe/Paris");
}

TEST_F(CalendarTest, TodayUsesTheRealClockByDefault) {
  const Tool real = make_calendar_tool();
  const json out = real.handler({{"operation", "today"}});
  EXPECT_EQ(out["date"].get<std::string>().size(), 10u);
}

// ---- add ------------------------------------------------------------------------------------------

TEST_F(CalendarTest, AddDaysAndWeeks) {
  EXPECT_EQ(run(add("2024-01-15", 10, "days"))["date"], "2024-01-25");
  EXPECT_EQ(run(add("2024-12-25", 1, "weeks"))["date"], "2025-01-01");
  EXPECT_EQ(run(add("2024-03-01", -1, "days"))["date"], "2024-02-29");
  EXPECT_EQ(run(add("2023-03-01", -1, "days"))["date"], "2023-02-28");
  EXPECT_EQ(run(add("1900-02-28", 1, "days"))["date"], "1900-03-01");  // 1900 is not a leap year
  EXPECT_EQ(run(add("2000-02-28", 1, "days"))["date"], "2000-02-29");  // 2000 is
  EXPECT_EQ(run(add("2024-01-01", 366, "days"))["date"], "2025-01-01");
  EXPECT_EQ(run(add("2024-03-30", 1, "day"))["date"], "2024-03-31");  // singular units are accepted
  const json out = run(add("2024-03-05", 0, "days"));
  EXPECT_EQ(out["date"], "2024-03-05");
  EXPECT_EQ(out["weekday"], "Tuesday");
  EXPECT_EQ(out["clamped"], false);
}

TEST_F(CalendarTest, AddMonthsClampsToTheEndOfTheMonth) {
  json out = run(add("2024-01-31", 1, "months"));
  EXPECT_EQ(out["date"], "2024-02-29");
  EXPECT_EQ(out["clamped"], true);
  EXPECT_EQ(run(add("2023-01-31", 1, "months"))["date"], "2023-02-28");
  EXPECT_EQ(run(add("2024-03-31", -1, "months"))["date"], "2024-02-29");
  EXPECT_EQ(run(add("2024-05-31", 1, "month"))["date"], "2024-06-30");
  EXPECT_EQ(run(add("2024-01-31", 13, "months"))["date"], "2025-02-28");
  EXPECT_EQ(run(add("2024-01-01", -12, "months"))["date"], "2023-01-01");
  EXPECT_EQ(run(add("2024-01-15", -1, "months"))["date"], "2023-12-15");
  out = run(add("2024-01-30", 1, "months"));
  EXPECT_EQ(out["clamped"], true);
  out = run(add("2024-01-29", 1, "months"));
  EXPECT_EQ(out["date"], "2024-02-29");
  EXPECT_EQ(out["clamped"], false);
}

TEST_F(CalendarTest, AddYearsAndLeapDays) {
  json out = run(add("2024-02-29", 1, "years"));
  EXPECT_EQ(out["date"], "2025-02-28");
  EXPECT_EQ(out["clamped"], true);
  out = run(add("2024-02-29", 4, "years"));
  EXPECT_EQ(out["date"], "2028-02-29");
  EXPECT_EQ(out["clamped"], false);
  EXPECT_EQ(run(add("2024-02-29", 76, "years"))["date"], "2100-02-28");  // 2100 is not a leap year
  EXPECT_EQ(run(add("2024-06-15", -24, "years"))["date"], "2000-06-15");
}

TEST_F(CalendarTest, AddErrors) {
  EXPECT_ERROR(add("9999-12-31", 1, "days"), "outside the supported years 0001-9999");
  EXPECT_ERROR(add("0001-01-01", -1, "days"), "outside the supported years");
  EXPECT_ERROR(add("9999-06-01", 1, "years"), "outside the supported years");
  EXPECT_ERROR(add("2024-01-01", 1000000000000LL, "days"), "'amount' must be between -10000000 and 10000000");
  EXPECT_ERROR(add("2024-01-01", 1, "fortnights"), "'unit' must be one of days, weeks, months, years");
  EXPECT_ERROR(add("2023-02-30", 1, "days"),
               "'date': '2023-02-30' is not a valid date: February 2023 has 28 days");
  EXPECT_ERROR((json{{"operation", "add"}, {"date", "2024-01-01"}, {"unit", "days"}}),
               "'amount' is required for operation 'add'");
  EXPECT_ERROR((json{{"operation", "add"}, {"date", "2024-01-01"}, {"unit", "days"}, {"amount", 1.5}}),
               "'amount' must be an integer");
}

// ---- diff -----------------------------------------------------------------------------------------

TEST_F(CalendarTest, DiffCountsSignedDays) {
  EXPECT_EQ(run(two("diff", "2023-01-01", "2024-01-01"))["days"], 365);
  EXPECT_EQ(run(two("diff", "2024-01-01", "2025-01-01"))["days"], 366);
  EXPECT_EQ(run(two("diff", "2025-01-01", "2024-01-01"))["days"], -366);
  EXPECT_EQ(run(two("diff", "2024-03-05", "2024-03-05"))["days"], 0);
  EXPECT_EQ(run(two("diff", "1970-01-01", "2000-01-01"))["days"], 10957);
  EXPECT_EQ(run(two("diff", "0001-01-01", "9999-12-31"))["days"], 3652058);
}

TEST_F(CalendarTest, DiffIsIndependentOfDaylightSaving) {
  EXPECT_EQ(run(two("diff", "2024-03-30", "2024-04-01"))["days"], 2);  // Europe springs forward on 03-31
  EXPECT_EQ(run(two("diff", "2024-03-09", "2024-03-11"))["days"], 2);  // the US on 03-10
  EXPECT_EQ(run(two("diff", "2024-10-26", "2024-10-28"))["days"], 2);  // Europe falls back on 10-27
}

TEST_F(CalendarTest, DiffWeeksAndBreakdown) {
  json out = run(two("diff", "2024-01-01", "2024-01-18"));
  EXPECT_EQ(out["days"], 17);
  EXPECT_EQ(out["weeks"], 2);
  EXPECT_EQ(out["remainder_days"], 3);
  out = run(two("diff", "2024-01-18", "2024-01-01"));
  EXPECT_EQ(out["weeks"], -2);
  EXPECT_EQ(out["remainder_days"], -3);

  out = run(two("diff", "2020-02-29", "2024-03-15"));
  EXPECT_EQ(out["breakdown"], (json{{"years", 4}, {"months", 0}, {"days", 15}}));
  out = run(two("diff", "2024-01-31", "2024-03-01"));
  EXPECT_EQ(out["breakdown"], (json{{"years", 0}, {"months", 1}, {"days", 1}}));
  out = run(two("diff", "2024-01-31", "2024-02-29"));  // round-trips with add's clamping
  EXPECT_EQ(out["breakdown"], (json{{"years", 0}, {"months", 1}, {"days", 0}}));
  out = run(two("diff", "2000-06-15", "2024-06-14"));
  EXPECT_EQ(out["breakdown"], (json{{"years", 23}, {"months", 11}, {"days", 30}}));
  out = run(two("diff", "2024-03-15", "2020-02-29"));  // negative: every part negated
  EXPECT_EQ(out["breakdown"], (json{{"years", -4}, {"months", 0}, {"days", -15}}));
  out = run(two("diff", "2024-03-05", "2024-03-05"));
  EXPECT_EQ(out["breakdown"], (json{{"years", 0}, {"months", 0}, {"days", 0}}));
}

TEST_F(CalendarTest, DiffNamesTheBadField) {
  EXPECT_ERROR(two("diff", "2024-01-01", "2024-02-30"),
               "'end': '2024-02-30' is not a valid date: February 2024 has 29 days");
  EXPECT_ERROR(two("diff", "01/02/2024", "2024-02-01"),
               "'start': '01/02/2024' is not a date in YYYY-MM-DD form");
  EXPECT_ERROR((json{{"operation", "diff"}, {"start", "2024-01-01"}}),
               "'end' is required for operation 'diff'");
}

// ---- weekday and iso_week -------------------------------------------------------------------------

TEST_F(CalendarTest, Weekday) {
  json out = run(one("weekday", "2024-03-05"));
  EXPECT_EQ(out["weekday"], "Tuesday");
  EXPECT_EQ(out["iso_weekday"], 2);
  EXPECT_EQ(run(one("weekday", "1970-01-01"))["weekday"], "Thursday");
  EXPECT_EQ(run(one("weekday", "2000-01-01"))["iso_weekday"], 6);
  EXPECT_EQ(run(one("weekday", "2024-02-29"))["weekday"], "Thursday");
  out = run(one("weekday", "2024-03-03"));
  EXPECT_EQ(out["weekday"], "Sunday");
  EXPECT_EQ(out["iso_weekday"], 7);  // Monday = 1 ... Sunday = 7
  EXPECT_EQ(run(one("weekday", "0001-01-01"))["weekday"], "Monday");
}

TEST_F(CalendarTest, InvalidDates) {
  EXPECT_ERROR(one("weekday", "2023-02-29"),
               "'date': '2023-02-29' is not a valid date: February 2023 has 28 days");
  EXPECT_ERROR(one("weekday", "2024-13-01"), "there is no month 13");
  EXPECT_ERROR(one("weekday", "2024-00-10"), "there is no month 00");
  EXPECT_ERROR(one("weekday", "2024-04-31"), "April 2024 has 30 days");
  EXPECT_ERROR(one("weekday", "2024-04-00"), "there is no day 00");
  EXPECT_ERROR(one("weekday", "0000-01-01"), "the year must be from 0001 to 9999");
  EXPECT_ERROR(one("weekday", "2024-3-5"), "not a date in YYYY-MM-DD form");
  EXPECT_ERROR(one("weekday", "tomorrow"), "'date': 'tomorrow' is not a date in YYYY-MM-DD form");
  EXPECT_ERROR((json{{"operation", "weekday"}}), "'date' is required for operation 'weekday'");
  EXPECT_ERROR((json{{"operation", "weekday"}, {"date", 20240305}}), "'date' must be a string");
}

TEST_F(CalendarTest, IsoWeekEdgeCases) {
  json out = run(one("iso_week", "2021-01-03"));
  EXPECT_EQ(out["iso_year"], 2020);
  EXPECT_EQ(out["week"], 53);
  EXPECT_EQ(out["iso_week"], "2020-W53");
  EXPECT_EQ(out["iso_week_date"], "2020-W53-7");
  EXPECT_EQ(run(one("iso_week", "2021-01-04"))["iso_week_date"], "2021-W01-1");
  EXPECT_EQ(run(one("iso_week", "2020-12-31"))["iso_week_date"], "2020-W53-4");
  EXPECT_EQ(run(one("iso_week", "2024-12-30"))["iso_week_date"], "2025-W01-1");  // ISO year ahead
  EXPECT_EQ(run(one("iso_week", "2026-01-01"))["iso_week_date"], "2026-W01-4");
  EXPECT_EQ(run(one("iso_week", "2027-01-01"))["iso_week_date"], "2026-W53-5");
  EXPECT_EQ(run(one("iso_week", "2024-03-05"))["iso_week"], "2024-W10");
  out = run(one("iso_week", "2023-01-01"));
  EXPECT_EQ(out["iso_year"], 2022);
  EXPECT_EQ(out["week"], 52);
}

// ---- business_days --------------------------------------------------------------------------------

TEST_F(CalendarTest, BusinessDaysAcrossWeekends) {
  EXPECT_EQ(run(two("business_days", "2024-03-04", "2024-03-11"))["business_days"], 5);  // Mon..Mon
  EXPECT_EQ(run(two("business_days", "2024-03-04", "2024-03-09"))["business_days"], 5);  // Mon..Sat
  EXPECT_EQ(run(two("business_days", "2024-03-04", "2024-03-08"))["business_days"], 4);  // end excluded
  EXPECT_EQ(run(two("business_days", "2024-03-09", "2024-03-11"))["business_days"], 0);  // the weekend
  EXPECT_EQ(run(two("business_days", "2024-03-08", "2024-03-11"))["business_days"], 1);  // Fri..Mon
  EXPECT_EQ(run(two("business_days", "2024-03-06", "2024-03-06"))["business_days"], 0);
  EXPECT_EQ(run(two("business_days", "2024-03-11", "2024-03-04"))["business_days"], -5);
  EXPECT_EQ(run(two("business_days", "2024-01-01", "2025-01-01"))["business_days"], 262);
  EXPECT_EQ(run(two("business_days", "2023-01-01", "2024-01-01"))["business_days"], 260);
  const json out = run(two("business_days", "2024-03-04", "2024-03-18"));
  EXPECT_EQ(out["business_days"], 10);
  EXPECT_EQ(out["calendar_days"], 14);
  EXPECT_EQ(out["holidays_excluded"], 0);
}

TEST_F(CalendarTest, BusinessDaysExcludeHolidays) {
  json args = two("business_days", "2024-12-23", "2025-01-06");
  args["holidays"] = {"2024-12-25", "2024-12-26", "2025-01-01",
                      "2024-12-25",   // listed twice, counted once
                      "2024-12-28",   // a Saturday: not a business day anyway
                      "2025-01-06",   // the end date: outside [start, end)
                      "2024-07-04"};  // outside the range
  json out = run(args);
  EXPECT_EQ(out["business_days"], 7);
  EXPECT_EQ(out["holidays_excluded"], 3);
  std::swap(args["start"], args["end"]);
  out = run(args);
  EXPECT_EQ(out["business_days"], -7);
  EXPECT_EQ(out["calendar_days"], -14);
  args["holidays"] = {"2024-12-25", "2024-02-30"};
  EXPECT_ERROR(args, "'holidays[1]': '2024-02-30' is not a valid date");
}

// ---- parse ----------------------------------------------------------------------------------------

TEST_F(CalendarTest, ParseDates) {
  json out = run(parse("2024-03-05"));
  EXPECT_EQ(out["date"], "2024-03-05");
  EXPECT_EQ(out["weekday"], "Tuesday");
  EXPECT_EQ(out["day_of_year"], 65);
  EXPECT_FALSE(out.contains("time"));
  EXPECT_EQ(run(parse("20240305"))["date"], "2024-03-05");
  EXPECT_EQ(run(parse("  2024-12-31 "))["day_of_year"], 366);
  EXPECT_EQ(run(parse("2023-12-31"))["day_of_year"], 365);
}

TEST_F(CalendarTest, ParseTimestamps) {
  json out = run(parse("2024-03-05T10:20:30Z"));
  EXPECT_EQ(out["date"], "2024-03-05");
  EXPECT_EQ(out["time"], "10:20:30");
  EXPECT_EQ(out["utc_offset"], "+00:00");
  EXPECT_EQ(out["utc"], "2024-03-05T10:20:30Z");
  out = run(parse("2024-03-05T01:20:30+02:00"));  // the date as written, the UTC instant on the day before
  EXPECT_EQ(out["date"], "2024-03-05");
  EXPECT_EQ(out["utc_offset"], "+02:00");
  EXPECT_EQ(out["utc"], "2024-03-04T23:20:30Z");
  out = run(parse("2024-03-05 10:20:30.123-05:30"));
  EXPECT_EQ(out["time"], "10:20:30.123");
  EXPECT_EQ(out["utc"], "2024-03-05T15:50:30.123Z");
  out = run(parse("2024-03-05T10:20"));
  EXPECT_EQ(out["time"], "10:20:00");
  EXPECT_FALSE(out.contains("utc_offset"));
  EXPECT_EQ(run(parse("20240305T102030Z"))["utc"], "2024-03-05T10:20:30Z");
  EXPECT_EQ(run(parse("2024-03-05T10:20:30+0530"))["utc_offset"], "+05:30");
  EXPECT_EQ(run(parse("2024-12-31T23:30:00-01:00"))["utc"], "2025-01-01T00:30:00Z");
}

TEST_F(CalendarTest, ParseErrors) {
  EXPECT_ERROR(parse("2024-02-30"), "'text': '2024-02-30' is not a valid date: February 2024 has 29 days");
  EXPECT_ERROR(parse("March 5"), "'text': cannot read 'March 5' as an ISO 8601 date");
  EXPECT_ERROR(parse("2024-03-05T25:00"), "hour 25 is out of range");
  EXPECT_ERROR(parse("2024-03-05T10:61"), "minute 61 is out of range");
  EXPECT_ERROR(parse("2024-03-05T10:20:30+25:00"), "UTC offset");
  EXPECT_ERROR(parse("2024-03-05T10"), "cannot read");
  EXPECT_ERROR(parse("2024-03-05X"), "cannot read");
  EXPECT_ERROR(parse("2024-03-05T10:20:30Zjunk"), "cannot read");
}

// ---- dispatch, schema, registry -------------------------------------------------------------------

TEST_F(CalendarTest, OperationIsRequiredAndKnown) {
  EXPECT_ERROR(json::object(), "'operation' is required");
  EXPECT_ERROR((json{{"operation", "yesterday"}}), "unknown operation 'yesterday'");
}

TEST_F(CalendarTest, SchemaAvoidsTopLevelCombinators) {
  const json& p = tool_.spec.parameters;
  EXPECT_EQ(tool_.spec.name, "calendar");
  EXPECT_EQ(p["type"], "object");
  EXPECT_EQ(p["required"], json::array({"operation"}));
  for (const char* keyword : {"oneOf", "anyOf", "allOf", "not", "enum"})
    EXPECT_FALSE(p.contains(keyword)) << keyword;
  EXPECT_EQ(p["properties"]["operation"]["enum"].size(), 7u);
  EXPECT_TRUE(p.contains("if"));
  EXPECT_TRUE(tool_.spec.result_schema.has_value());
}

TEST_F(CalendarTest, ThroughTheRegistry) {
  ToolRegistry registry;
  registry.add(tool_);
  const CallResult ok = registry.call("calendar", add("2024-01-31", 1, "months"));
  ASSERT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.value["date"], "2024-02-29");
  EXPECT_EQ(ok.value["operation"], "add");
  for (const json& args :
       {json{{"operation", "today"}}, json{{"operation", "today"}, {"timezone", "Asia/Tokyo"}},
        two("diff", "2024-01-01", "2024-02-01"), one("weekday", "2024-03-05"), one("iso_week", "2021-01-03"),
        two("business_days", "2024-03-04", "2024-03-11"), parse("2024-03-05T10:20:30Z")}) {
    const CallResult r = registry.call("calendar", args);
    EXPECT_TRUE(r.ok()) << args.dump() << " -> " << r.error;
  }
  const CallResult bad_date = registry.call("calendar", one("weekday", "2023-02-29"));
  EXPECT_EQ(bad_date.status, CallStatus::failed);
  EXPECT_NE(bad_date.error.find("February 2023 has 28 days"), std::string::npos) << bad_date.error;
}

// Needs the JSON Schema validator (tools/json-schema.cpp): bad arguments never reach the handler.
TEST_F(CalendarTest, SchemaRejectsBadArgumentsPerOperation) {
  ToolRegistry registry;
  registry.add(tool_);
  json holidays_not_dates = two("business_days", "2024-03-04", "2024-03-11");
  holidays_not_dates["holidays"] = {"Christmas"};
  json timezone_on_add = add("2024-01-01", 1, "days");
  timezone_on_add["timezone"] = "UTC";
  for (const json& args :
       {json::object(),                                                        // no operation
        json{{"operation", "yesterday"}},                                      // unknown operation
        json{{"operation", "weekday"}},                                        // missing date
        json{{"operation", "add"}, {"date", "2024-01-01"}, {"unit", "days"}},  // no amount
        json{{"operation", "diff"}, {"start", "2024-01-01"}},                  // no end
        json{{"operation", "parse"}},                                          // no text
        add("2024-01-01", 1, "fortnights"),                                    // unit not in the enum
        json{{"operation", "add"}, {"date", "2024-01-01"}, {"amount", "3"}, {"unit", "days"}},
        one("weekday", "2024-3-5"),                           // pattern
        holidays_not_dates,                                   // item pattern
        timezone_on_add,                                      // field of another operation
        json{{"operation", "today"}, {"colour", "blue"}}}) {  // unknown field
    const CallResult r = registry.call("calendar", args);
    EXPECT_EQ(r.status, CallStatus::invalid_arguments) << args.dump() << " -> " << r.error;
  }
}

}  // namespace
}  // namespace chorus::tools
