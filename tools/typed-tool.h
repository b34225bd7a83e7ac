#pragma once
// Declare a tool from a C++ struct: the parameters' JSON Schema is generated from the struct's fields.
//
//   struct AddArgs { double a; double b; std::optional<std::string> note; };
//   template <> struct chorus::tools::Fields<AddArgs> {
//     static auto list() {
//       return std::make_tuple(field(&AddArgs::a, "a", "First addend"),
//                              field(&AddArgs::b, "b", "Second addend").with({{"minimum", 0}}),
//                              field(&AddArgs::note, "note", "Optional remark"));
//     }
//   };
//   Tool t = make_typed_tool<AddArgs>("add", "Adds two numbers", [](const AddArgs& x) { return x.a + x.b; });
//
// std::optional<T> fields are optional; every other field is required; extra properties are rejected.
#include "tools/tool.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace chorus::tools {

// Specialise for each argument struct: `static auto list()` returns a tuple of field(...) descriptors.
template <class T>
struct Fields;

// One struct member exposed as a JSON property; `with` adds schema keywords (minimum, enum, pattern...).
template <class S, class M>
struct FieldDesc {
  M S::*member;
  const char* name;
  const char* description;
  nlohmann::json extra = nlohmann::json::object();
  FieldDesc with(nlohmann::json keywords) const {
    FieldDesc copy = *this;
    copy.extra.merge_patch(keywords);
    return copy;
  }
};

// Describes member `member` as property `name`.
template <class S, class M>
FieldDesc<S, M> field(M S::*member, const char* name, const char* description) {
  return {member, name, description};
}

namespace detail {

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T> struct is_string_map : std::false_type {};
template <class T, class C, class A> struct is_string_map<std::map<std::string, T, C, A>> : std::true_type {};
template <class T, class = void> struct has_fields : std::false_type {};
template <class T> struct has_fields<T, std::void_t<decltype(Fields<T>::list())>> : std::true_type {};

}  // namespace detail

// The JSON Schema of a C++ type: string, boolean, integer, number, arrays, string maps, described structs.
template <class T>
nlohmann::json schema_of() {
  if constexpr (detail::is_optional<T>::value) {
    return schema_of<typename T::value_type>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    return {{"type", "string"}};
  } else if constexpr (std::is_same_v<T, bool>) {
    return {{"type", "boolean"}};
  } else if constexpr (std::is_integral_v<T>) {
    nlohmann::json s = {{"type", "integer"}};
    if constexpr (std::is_unsigned_v<T>) s["minimum"] = 0;
    return s;
  } else if constexpr (std::is_floating_point_v<T>) {
    return {{"type", "number"}};
  } else if constexpr (detail::is_vector<T>::value) {
    return {{"type", "array"}, {"items", schema_of<typename T::value_type>()}};
  } else if constexpr (detail::is_string_map<T>::value) {
    return {{"type", "object"}, {"additionalProperties", schema_of<typename T::mapped_type>()}};
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return nlohmann::json::object();  // any JSON value
  } else {
    static_assert(detail::has_fields<T>::value, "schema_of<T>: specialise chorus::tools::Fields<T> for this struct");
    nlohmann::json properties = nlohmann::json::object();
    nlohmann::json required = nlohmann::json::array();
    std::apply(
        [&](const auto&... f) {
          auto add = [&](const auto& desc) {
            using M = std::remove_cvref_t<decltype(std::declval<T>().*(desc.member))>;
            nlohmann::json s = schema_of<M>();
            s["description"] = desc.description;
            s.merge_patch(desc.extra);
            properties[desc.name] = std::move(s);
            if (!detail::is_optional<M>::value) required.push_back(desc.name);
          };
          (add(f), ...);
        },
        Fields<T>::list());
    return {{"type", "object"}, {"properties", properties}, {"required", required}, {"additionalProperties", false}};
  }
}

// Builds a T from JSON that already matched schema_of<T>() (absent optional fields stay empty).
template <class T>
T from_json_value(const nlohmann::json& j) {
  if constexpr (detail::is_optional<T>::value) {
    if (j.is_null()) return std::nullopt;
    return from_json_value<typename T::value_type>(j);
  } else if constexpr (detail::is_vector<T>::value) {
    T out;
    for (const auto& item : j) out.push_back(from_json_value<typename T::value_type>(item));
    return out;
  } else if constexpr (detail::is_string_map<T>::value) {
    T out;
    for (const auto& [k, v] : j.items()) out.emplace(k, from_json_value<typename T::mapped_type>(v));
    return out;
  } else if constexpr (detail::has_fields<T>::value) {
    T out{};
    std::apply(
        [&](const auto&... f) {
          auto set = [&](const auto& desc) {
            using M = std::remove_cvref_t<decltype(out.*(desc.member))>;
            if (auto it = j.find(desc.name); it != j.end()) out.*(desc.member) = from_json_value<M>(*it);
          };
          (set(f), ...);
        },
        Fields<T>::list());
    return out;
  } else {
    return j.get<T>();
  }
}

// A Tool whose arguments are a T (schema generated) and whose handler returns anything convertible to JSON.
template <class T, class Handler>
Tool make_typed_tool(std::string name, std::string description, Handler handler) {
  Tool tool;
  tool.spec.name = std::move(name);
  tool.spec.description = std::move(description);
  tool.spec.parameters = schema_of<T>();
  tool.handler = [h = std::move(handler)](const nlohmann::json& arguments) -> nlohmann::json {
    return nlohmann::json(h(from_json_value<T>(arguments)));
  };
  return tool;
}

}  // namespace chorus::tools
