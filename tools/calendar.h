#pragma once
// The "calendar" tool: date arithmetic on the proleptic Gregorian calendar (Howard Hinnant's date library,
// time zones from the OS tz database). One tool, chosen by the "operation" argument:
//
//   today          {timezone?}               -> date, weekday, ISO week, local time, UTC offset (default
//   "UTC") add            {date, amount, unit}      -> date; months/years clamp to the month's end
//                                                (2024-01-31 + 1 month = 2024-02-29, "clamped": true)
//   diff           {start, end}              -> signed days, whole weeks + remainder days, and a
//                                                years/months/days breakdown counted forward from the
//                                                earlier date (negated when end < start)
//   weekday        {date}                    -> weekday name and ISO number (Monday = 1)
//   iso_week       {date}                    -> ISO week-numbering year and week ("2020-W53")
//   business_days  {start, end, holidays?}   -> Monday-Friday days in the half-open range [start, end),
//                                                minus listed holidays; negative when end < start
//   parse          {text}                    -> normalized date from "2024-03-05", "20240305",
//                                                "2024-03-05T10:20:30Z" or "...+02:00" (the date as written)
//
// Dates are YYYY-MM-DD within years 0001-9999; an invalid date is a ToolError naming the field.
// Day counts are whole calendar days, so daylight-saving changes never affect them.
#include "tools/tool.h"

#include <chrono>
#include <functional>

namespace chorus::tools {

// The current time, injectable so that "today" can be tested.
using Clock = std::function<std::chrono::system_clock::time_point()>;

// The "calendar" tool; `now` supplies the current time for "today".
Tool make_calendar_tool(Clock now = [] { return std::chrono::system_clock::now(); });

}  // namespace chorus::tools
