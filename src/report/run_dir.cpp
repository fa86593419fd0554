#include "report/run_dir.h"

#include "core/error.h"
#include "core/io.h"
#include "report/jsonl.h"

namespace structlm::report {

namespace {

json load_object_if_present(const std::string& path) {
  if (!file_exists(path)) return nullptr;
  json j = load_json(path);
  if (!j.is_object()) fail(path, std::string("expected a JSON object, got ") + j.type_name());
  return j;
}

std::string last_component(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto slash = dir.rfind('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

}  // namespace

long long RunData::seed() const {
  if (!has_config()) return -1;
  auto t = config.find("train");
  if (t == config.end() || !t->is_object()) return -1;
  auto s = t->find("seed");
  return s != t->end() && s->is_number_integer() ? s->get<long long>() : -1;
}

std::string RunData::group_key() const { return has_config() ? group_config().dump() : "dir:" + dir; }

json RunData::group_config() const {
  if (!has_config()) return nullptr;
  json c = full_config.is_null() ? config : full_config;
  // The seed is what varies within a group; threads and the time limit change speed, not results;
  // the tokenizer's path differs per run directory, but the shard paths already carry the
  // tokenizer's fingerprint (tokens-<hash>), so equal shards mean an equal tokenizer.
  if (c.contains("train") && c["train"].is_object()) {
    c["train"].erase("seed");
    c["train"].erase("threads");
    c["train"].erase("max_minutes");
  }
  if (c.contains("data") && c["data"].is_object()) c["data"].erase("tokenizer");
  return c;
}

RunData load_run(const std::string& dir, const ConfigReader& read_config) {
  if (!is_directory(dir)) fail(dir, "not a run directory (no such directory)");
  RunData r;
  r.dir = dir;
  r.name = last_component(dir);
  r.config = load_object_if_present(dir + "/config.json");
  r.full_config = r.config;
  if (!r.config.is_null() && read_config) {
    try {
      r.full_config = read_config(r.config, dir + "/config.json");
    } catch (const std::exception& e) {
      r.config_note = e.what();
    }
  }
  if (file_exists(dir + "/metrics.jsonl")) r.metrics = read_metrics(dir + "/metrics.jsonl");
  r.eval = load_object_if_present(dir + "/eval.json");
  if (!r.eval.is_null() && !(r.eval.contains("corpora") && r.eval["corpora"].is_array()))
    fail(dir + "/eval.json", "expected {\"corpora\": [...]}");
  r.stages = load_object_if_present(dir + "/stages.json");
  r.run_info = load_object_if_present(dir + "/run_info.json");
  const bool experiment = file_exists(dir + "/cstde/experiment.json") || file_exists(dir + "/hcma/experiment.json");
  if (r.config.is_null() && !file_exists(dir + "/metrics.jsonl") && r.eval.is_null() && !experiment)
    fail(dir, "not a run directory: none of config.json, metrics.jsonl, eval.json, cstde/experiment.json, "
              "hcma/experiment.json");
  return r;
}

}  // namespace structlm::report
