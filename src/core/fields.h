// One table per options struct: each field's name, how to reach its member, an optional check and
// a help line. to_json, from_json (with the known-keys check) and the `--set` help listing all
// come from the table, so a field is spelled once. Checks that tie several fields together stay
// in the struct's from_json, after the table has read them.
//
//   static const auto t = FieldTable<TrainConfig>()
//       .add("lr", +[](TrainConfig& c) -> double& { return c.lr; }, "peak learning rate", "positive", positive);
//
// A struct made of other option structs includes their tables (include), so each field is still
// spelled once, in the table of the struct that holds it.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"

namespace structlm {

template <typename S>
class FieldTable {
 public:
  // `kind` starts every check's message: "train field 'lr' must be > 0".
  explicit FieldTable(std::string kind = "field") : kind_(std::move(kind)) {}

  // `get` reaches the member (nested ones too). `ok`, when given, says whether a value is valid
  // (any callable; see the checks below) and `requirement` what a valid one is: a failed check
  // reads "KIND 'NAME' must be REQUIREMENT".
  template <typename T>
  FieldTable& add(const char* name, T& (*get)(S&), const char* help) {
    return add_entry<T>(name, get, help, nullptr, "");
  }
  template <typename T, typename Ok>
  FieldTable& add(const char* name, T& (*get)(S&), const char* help, const char* requirement, Ok ok) {
    return add_entry<T>(name, get, help, std::function<bool(const T&)>(ok), requirement);
  }

  // Adds every field of `sub` (same names, checks and help), reached through `member`. A failed
  // check reads with this table's KIND: the message is about the file this table reads.
  template <typename M>
  FieldTable& include(const FieldTable<M>& sub, M& (*member)(S&)) {
    for (const auto& e : sub.entries_) {
      Entry x;
      x.name = e.name;
      x.help = e.help;
      x.requirement = e.requirement;
      x.sub_help = e.sub_help;
      x.write = [write = e.write, member](const S& s, json& j) { write(member(const_cast<S&>(s)), j); };
      x.read = [read = e.read, member](const json& j, S& s, const std::string& path) { read(j, member(s), path); };
      if (e.ok) x.ok = [ok = e.ok, member](const S& s) { return ok(member(const_cast<S&>(s))); };
      entries_.push_back(std::move(x));
    }
    return *this;
  }

  // A member that is a struct with its own table, written as a nested object: "sample": {...}.
  // Its keys are checked by `sub` and its errors name `path`'s key path: "cfg.json (experiment.sample)".
  template <typename M>
  FieldTable& section(const char* name, M& (*get)(S&), const FieldTable<M>& sub, const char* help) {
    Entry e;
    e.name = name;
    e.help = help;
    e.write = [name, get, &sub](const S& s, json& j) { j[name] = sub.to_json(get(const_cast<S&>(s))); };
    e.read = [name, get, &sub](const json& j, S& s, const std::string& path) {
      auto it = j.find(name);
      if (it == j.end() || it->is_null()) return;
      const std::string where = nested_path(path, name);
      check(it->is_object(), where, std::string("'") + name + "' must be a JSON object");
      sub.read(*it, get(s), where);
    };
    e.sub_help = [name, &sub](const std::string& prefix) { return sub.help(prefix + name + "."); };
    entries_.push_back(std::move(e));
    return *this;
  }

  // Moves field `name` to just after field `after` (names(), help() and the unknown-key message
  // follow the table's order): for a file format that interleaves the fields of included tables.
  FieldTable& move_after(const std::string& name, const std::string& after) {
    auto it = find(name);
    Entry e = std::move(*it);
    entries_.erase(it);
    entries_.insert(find(after) + 1, std::move(e));
    return *this;
  }

  json to_json(const S& s) const {
    json j = json::object();
    for (const auto& e : entries_) e.write(s, j);
    return j;
  }

  // Reads every field present in `j` into `s` (absent ones keep their value), then runs the
  // checks. Keys that are neither fields nor in `extra_keys` are errors naming `path`.
  void read(const json& j, S& s, const std::string& path, const std::vector<std::string>& extra_keys = {}) const {
    std::vector<std::string> known = names();
    known.insert(known.end(), extra_keys.begin(), extra_keys.end());
    check_known_keys(j, known, path);
    for (const auto& e : entries_) e.read(j, s, path);
    for (const auto& e : entries_)
      if (e.ok) check(e.ok(s), path, kind_ + " '" + e.name + "' must be " + e.requirement);
  }

  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& e : entries_) n.push_back(e.name);
    return n;
  }

  // "  name  help" per field, for --help.
  std::string help(const std::string& prefix = "") const {
    std::string out;
    for (const auto& e : entries_) {
      out += "  " + prefix + e.name + "  " + e.help + "\n";
      if (e.sub_help) out += e.sub_help(prefix);
    }
    return out;
  }

 private:
  template <typename>
  friend class FieldTable;  // include() copies another table's entries

  struct Entry {
    std::string name, help, requirement;
    std::function<void(const S&, json&)> write;
    std::function<void(const json&, S&, const std::string&)> read;
    std::function<bool(const S&)> ok;  // empty: no check
    std::function<std::string(const std::string&)> sub_help;  // a section's fields, for help()
  };

  // "cfg.json" + "sample" -> "cfg.json (sample)"; "cfg.json (experiment)" -> "cfg.json (experiment.sample)".
  static std::string nested_path(const std::string& path, const std::string& name) {
    if (!path.empty() && path.back() == ')' && path.find(" (") != std::string::npos)
      return path.substr(0, path.size() - 1) + "." + name + ")";
    return path + " (" + name + ")";
  }
  std::string kind_;
  std::vector<Entry> entries_;

  typename std::vector<Entry>::iterator find(const std::string& name) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->name == name) return it;
    fail(kind_, "no field '" + name + "' in the table");
  }

  template <typename T>
  FieldTable& add_entry(const char* name, T& (*get)(S&), const char* help, std::function<bool(const T&)> ok,
                        const char* requirement) {
    Entry e;
    e.name = name;
    e.help = help;
    e.requirement = requirement;
    e.write = [name, get](const S& s, json& j) { j[name] = get(const_cast<S&>(s)); };
    e.read = [name, get](const json& j, S& s, const std::string& path) { read_field(j, name, get(s), path); };
    if (ok) e.ok = [get, ok](const S& s) { return ok(get(const_cast<S&>(s))); };
    entries_.push_back(std::move(e));
    return *this;
  }
};

// Common checks for FieldTable::add.
inline constexpr auto positive = [](const auto& v) { return v > 0; };
inline constexpr auto non_negative = [](const auto& v) { return v >= 0; };
inline constexpr auto at_least = [](auto min) { return [min](const auto& v) { return v >= min; }; };

}  // namespace structlm
