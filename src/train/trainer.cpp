#include "train/trainer.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "core/rng.h"
#include "data/shard.h"
#include "dist/grad_reducer.h"
#include "dist/process_group.h"
#include "model/checkpoint.h"
#include "model/gpt.h"
#include "model/precision.h"
#include "model/runtime.h"
#include "cstde/structured_init.h"
#include "train/checkpointing.h"
#include "cstde/prior_use.h"
#include "report/metrics_log.h"
#include "train/optimizer.h"
#include "zoo/zoo.h"

namespace structlm::train {

namespace {

// ---- Ctrl-C: finish the step, write a checkpoint, return ---------------------------------------

volatile sig_atomic_t g_interrupted = 0;

extern "C" void on_sigint(int) { g_interrupted = 1; }

// Installs the handler for the duration of a run. SA_RESETHAND restores the default action once
// the first Ctrl-C arrives, so a second one still kills a run that is stuck.
class SigintGuard {
 public:
  SigintGuard() {
    g_interrupted = 0;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    installed_ = ::sigaction(SIGINT, &sa, &old_) == 0;
  }
  ~SigintGuard() {
    if (installed_) ::sigaction(SIGINT, &old_, nullptr);
  }

 private:
  struct sigaction old_ {};
  bool installed_ = false;
};

// The model being trained, of the run configuration's architecture (model.arch): the GPT or the
// Llama family's decoder, seen through what the loop needs.
struct Net {
  zoo::LoadedModel m;
  torch::nn::Module& module() { return m.lm().module(); }
  torch::Tensor loss(const torch::Tensor& ids, const torch::Tensor& targets) {
    return m.gpt ? m.gpt->loss(ids, targets) : m.llama->loss(ids, targets);
  }
  std::vector<torch::Tensor> decay_params() { return m.gpt ? m.gpt->decay_params() : m.llama->decay_params(); }
  std::vector<torch::Tensor> no_decay_params() { return m.gpt ? m.gpt->no_decay_params() : m.llama->no_decay_params(); }
  std::int64_t num_params() { return m.gpt ? m.gpt->num_params() : m.llama->num_params(); }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A resumed run's log continues from the checkpoint: lines of steps after it (logged by the
// interrupted run before it died) are dropped, so the file reads as one uninterrupted run.
void truncate_metrics(const std::string& path, std::int64_t step) {
  if (!file_exists(path)) return;
  std::string kept;
  for (const auto& line : read_lines(path)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("step") && j["step"].is_number_integer() && j["step"].get<std::int64_t>() > step)
      continue;
    kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

// Mean loss over `c.eval_batches` batches of the validation data. The batches are the same at
// every evaluation (their own stream, keyed by the seed), so the curve shows the model changing,
// not the sample.
// With several ranks each computes every W-th batch and the sums are all-reduced.
// With `use` (CSTDE models): the prior's use on this rank's first validation batch as well.
double validation_loss(Net& model, const data::TokenStream& val, const TrainConfig& c, int T,
                       torch::Device device, model::Precision precision, dist::ProcessGroup* group,
                       cstde::PriorUse* use = nullptr) {
  torch::NoGradGuard no_grad;
  model::AutocastGuard autocast(precision, device);  // validated as trained
  model.module().eval();
  const std::uint64_t val_seed = mix_seed(c.seed, 0x76616c /* "val" */);
  const int B = int(c.batch_size);
  std::vector<std::int64_t> buf(std::size_t(B) * (T + 1));
  const int rank = group ? group->rank() : 0, W = group ? group->world_size() : 1;
  double total = 0;
  for (std::int64_t b = rank; b < c.eval_batches; b += W) {
    val.random_batch(val_seed, b, B, T, buf.data());
    auto batch = torch::from_blob(buf.data(), {B, T + 1}, torch::kLong).to(device, false, /*copy=*/true);
    if (use && b == rank)
      *use = model.m.gpt ? cstde::prior_use(*model.m.gpt, batch.slice(1, 0, T))
                         : cstde::prior_use(*model.m.llama, batch.slice(1, 0, T));
    total += model.loss(batch.slice(1, 0, T), batch.slice(1, 1, T + 1)).item<double>();
  }
  if (group) {
    std::vector<torch::Tensor> sum = {torch::full({1}, total, torch::kFloat64)};
    group->allreduce_mean(sum);
    total = sum[0].item<double>() * W;
  }
  model.module().train();
  return total / double(c.eval_batches);
}

std::string format_fields(double loss, double lr, double tok_s, double val_loss, bool have_val) {
  char buf[160];
  int n = std::snprintf(buf, sizeof buf, "loss %.4f | lr %.2e | %.0f tok/s", loss, lr, tok_s);
  if (have_val) std::snprintf(buf + n, sizeof buf - n, " | val %.4f", val_loss);
  return buf;
}

// One optimizer step's batch: B * A * W windows of T + 1 tokens, drawn at once (see the loop in
// train()), into `out`. The one place the trainer's data order is decided, so the structured init's
// "trained" counts read exactly what the steps will.
void step_batch(const data::TokenStream& train_data, const TrainConfig& tc, int T, int W, std::int64_t step,
                std::int64_t* out) {
  train_data.random_batch(tc.seed, step, int(tc.batch_size * tc.grad_accum) * W, T, out);
}

// CSTDE §1a: replace the random input embeddings by the structured ones, counted on the tokens
// model.cstde.init_tokens names: "trained", the train.max_steps batches this run will train on
// (each window a text of its own), or "split", the whole training split. Their statistics go to
// RUN_DIR/structured_init.json.
// Any architecture: the GPT's wte or the Llama's embed_tokens (model::CausalLM::input_table).
void apply_structured_init(model::CausalLM& model, const RunConfig& cfg, const data::TokenStream& train_data,
                           const std::string& run_dir, std::int64_t eot, int W) {
  cstde::StructuredInitOptions o;
  o.window = int(cfg.model.cstde.window);
  // Documents in our shards start with <|endoftext|>: no co-occurrence is counted across it.
  o.eot = eot;
  o.permute = cfg.model.cstde.init_permute;
  cstde::StructuredInitStats st;
  torch::Tensor table = model.input_table();
  const torch::Tensor random_init = table.detach().cpu();
  torch::Tensor E;
  if (cfg.model.cstde.init_tokens == "split") {
    E = cstde::structured_embedding(train_data, random_init, o, cfg.train.seed, &st);
  } else {
    const TrainConfig& tc = cfg.train;
    const int T = int(cfg.model.block_size);
    cstde::TrainedTokens tokens;
    tokens.steps = tc.max_steps;
    tokens.rows = tc.batch_size * tc.grad_accum * W;
    tokens.window = std::int64_t(T) + 1;
    tokens.read_step = [&](std::int64_t step, std::int64_t* out) { step_batch(train_data, tc, T, W, step, out); };
    E = cstde::structured_embedding(tokens, random_init, o, cfg.train.seed, &st);
  }
  {
    torch::NoGradGuard no_grad;
    table.copy_(E.to(table.options()));
  }
  save_json(run_dir + "/structured_init.json", st.to_json());
  std::fprintf(stderr, "cstde: structured embeddings for %lld of %lld tokens from %llu %s tokens in %.1f s (peak RSS %.0f MiB)\n",
               (long long)st.rows_structured, (long long)cfg.model.vocab_size, (unsigned long long)st.tokens,
               st.source.c_str(), st.seconds_total, st.peak_rss_mib);
}

struct RunData {
  data::TokenStream train;
  std::unique_ptr<data::TokenStream> val;
};

// The shards, checked: ids inside the model's vocabulary, at least one window each.
RunData open_data(const RunConfig& cfg) {
  RunData d{data::TokenStream(cfg.data.train_shards), nullptr};
  if (!cfg.data.val_shards.empty()) d.val = std::make_unique<data::TokenStream>(cfg.data.val_shards);
  const std::size_t V = std::size_t(cfg.model.vocab_size), window = std::size_t(cfg.model.block_size) + 1;
  d.train.check_ids_below(V, "the model's vocabulary (model.vocab_size)");
  if (d.val) d.val->check_ids_below(V, "the model's vocabulary (model.vocab_size)");
  if (d.train.size() < window)
    fail(cfg.data.train_shards.front(), "training data has " + std::to_string(d.train.size()) +
                                            " tokens, fewer than block_size + 1 = " + std::to_string(window));
  if (d.val && d.val->size() < window)
    fail(cfg.data.val_shards.front(), "validation data has " + std::to_string(d.val->size()) +
                                          " tokens, fewer than block_size + 1 = " + std::to_string(window));
  return d;
}

// One optimizer step's gradients: the batch's A micro-batches of B rows, each 1/A of the step's
// mean loss. Returns that mean loss. `first_micro`: the global index of the first micro-batch
// (rank r of a data-parallel job starts at r A), which keys the dropout masks.
torch::Tensor accumulate_gradients(Net& model, const torch::Tensor& batch, int B, int A, int T, std::uint64_t seed,
                                   std::int64_t step, model::Precision precision, int first_micro,
                                   dist::GradReducer* reducer) {
  torch::Tensor step_loss = torch::zeros({}, torch::TensorOptions().device(batch.device()));
  for (int micro = 0; micro < A; ++micro) {
    // Dropout masks come from a stream keyed by (seed, step, micro), so a resumed run draws the
    // same masks as an uninterrupted one without any saved RNG state.
    torch::manual_seed(mix_seed(seed, std::uint64_t(step), std::uint64_t(first_micro + micro)));
    auto rows = batch.slice(0, std::int64_t(micro) * B, std::int64_t(micro + 1) * B);
    torch::Tensor loss;
    {
      // Only the forward runs under autocast; backward follows the dtypes it recorded. The guard
      // ends before the optimizer step, so no bf16 copy of a weight outlives its update.
      model::AutocastGuard autocast(precision, batch.device());
      loss = model.loss(rows.slice(1, 0, T), rows.slice(1, 1, T + 1));
    }
    // The last backward pass completes the gradients: the reducer sends each bucket as it fills.
    if (reducer && micro == A - 1) reducer->arm();
    (loss / A).backward();
    step_loss += loss.detach() / A;
  }
  return step_loss;
}

// The throughput between log lines, and the progress line's fields.
struct LogClock {
  double last_log_s = 0, last_tok_s = 0;
  double allreduce_wait_s = 0;  // data-parallel: summed since the last log line
  std::int64_t last_log_step = 0;
  std::string fields;
};

// The metrics.jsonl record of a step that logs and/or evaluates (state.val_loss updated).
report::MetricLine step_record(Net& model, const data::TokenStream* val_data, const TrainConfig& tc, int T, torch::Device device,
                 model::Precision precision, TrainState& state, LogClock& clock, bool do_log, bool do_eval, double lr, double now_s,
                 std::int64_t tokens_per_step, const torch::Tensor& step_loss, const torch::Tensor& grad_norm,
                 dist::ProcessGroup* group) {
  report::MetricLine rec;
  rec.step = state.step;
  if (do_log) {
    state.train_loss = step_loss.item<double>();
    const double tok_s =
        double(state.step - clock.last_log_step) * double(tokens_per_step) / std::max(now_s - clock.last_log_s, 1e-9);
    rec.loss = state.train_loss;
    rec.lr = lr;
    rec.grad_norm = grad_norm.item<double>();
    rec.tokens_per_s = tok_s;
    clock.last_tok_s = tok_s;
    if (group) rec.allreduce_s = clock.allreduce_wait_s / double(std::max<std::int64_t>(state.step - clock.last_log_step, 1));
    clock.allreduce_wait_s = 0;
    clock.last_log_s = now_s;
    clock.last_log_step = state.step;
    clock.fields = format_fields(state.train_loss, lr, tok_s, state.val_loss, state.val_loss != 0);
  }
  if (do_eval) {
    cstde::PriorUse use;
    const bool has_prior = model.m.gpt ? model.m.gpt->cfg.cstde.attention : model.m.llama->cstde_config().attention;
    state.val_loss = validation_loss(model, *val_data, tc, T, device, precision, group, has_prior ? &use : nullptr);
    rec.val_loss = state.val_loss;
    rec.prior_weight = use.prior_weight.value_or(NAN);
    rec.carry_gate = use.carry_gate.value_or(NAN);
    rec.d_entropy = use.d_entropy.value_or(NAN);
    // An evaluation between log lines shows the last measured speed, not 0.
    clock.fields = format_fields(state.train_loss, lr, clock.last_tok_s, state.val_loss, true);
  }
  return rec;
}

// Each parameter's name, by tensor, for the optimizer's state in checkpoints.
std::map<const void*, std::string> parameter_names(Net& model) {
  std::map<const void*, std::string> names;
  for (auto& item : model.module().named_parameters()) names[item.value().unsafeGetTensorImpl()] = item.key();
  return names;
}

void print_model_line(Net& model, const RunConfig& cfg, const torch::Device& device,
                      const model::PrecisionChoice& precision) {
  if (cfg.model.is_llama())
    std::fprintf(stderr,
                 "model: llama, %lld parameters (%lld layers, %lld wide, %lld heads, %lld key/value heads, SwiGLU %lld, "
                 "context %lld, vocabulary %lld, %s) on %s, %d threads\n",
                 (long long)model.num_params(), (long long)cfg.model.n_layer, (long long)cfg.model.n_embd,
                 (long long)cfg.model.n_head, (long long)cfg.model.llama.n_kv_head,
                 (long long)cfg.model.llama.intermediate_size, (long long)cfg.model.block_size,
                 (long long)cfg.model.vocab_size, cfg.model.tied ? "tied" : "untied", device.str().c_str(),
                 torch::get_num_threads());
  else
    std::fprintf(stderr, "model: %lld parameters (%lld layers, %lld wide, %lld heads, context %lld, vocabulary %lld) on %s, %d threads\n",
                 (long long)model.num_params(), (long long)cfg.model.n_layer, (long long)cfg.model.n_embd,
                 (long long)cfg.model.n_head, (long long)cfg.model.block_size, (long long)cfg.model.vocab_size,
                 device.str().c_str(), torch::get_num_threads());
  std::fprintf(stderr, "precision: %s (%s)\n", precision.name(), precision.why.c_str());
}

// The precision this session computed in goes into run_info.json (written by whoever started
// the run, when it did): on the record itself, or on this session's entry of its "resumes".
void record_precision(const std::string& run_dir, const model::PrecisionChoice& p) {
  const std::string path = run_dir + "/run_info.json";
  if (!file_exists(path)) return;
  json info = load_json(path);
  if (!info.is_object()) return;
  json& entry = info.contains("resumes") && info["resumes"].is_array() && !info["resumes"].empty() ? info["resumes"].back() : info;
  entry["precision"] = {{"name", p.name()}, {"why", p.why}};
  save_json(path, info);
}

// Weights, optimizer moments and step from the checkpoint, whose run config must match `cfg`.
// A run may resume on another number of ranks when grad_accum x ranks stays the same.
TrainState restore_run(const std::string& latest, const RunConfig& cfg, int world_size, Net& model, AdamW& opt) {
  model::Checkpoint ck = model::read_any_checkpoint(latest);
  if (!ck.meta.contains("run_config")) fail(latest, "metadata has no 'run_config' (not a training checkpoint)");
  RunConfig saved = RunConfig::from_json(ck.meta["run_config"], latest + " (metadata 'run_config')");
  TrainState state = TrainState::from_json(ck.meta.value("train_state", json()), latest);
  check_resume_config(saved, cfg, latest, state.world_size, world_size);
  check(ck.arch == cfg.model.arch, latest,
        "holds a " + ck.arch + " model (metadata 'arch') but its run config says model.arch " + cfg.model.arch);
  model::load_module_weights(model.module(), ck, latest);
  opt.load_state(ck.tensors, latest);
  state.world_size = world_size;
  return state;
}

void fill_result(TrainResult& r, const TrainState& state, double wall_s, double tokens_per_s) {
  r.steps = state.step;
  r.final_train_loss = state.train_loss;
  r.final_val_loss = state.val_loss;
  r.wall_s = wall_s;
  r.tokens_per_s = tokens_per_s;
}

// What happens after step `step` (1-based count of steps taken): logging, evaluation, stopping.
struct StepEvents {
  bool interrupted, out_of_time, stopping, log, eval;
};
// `interrupted` / `out_of_time`: on any rank (agreed in the step's all-reduce).
StepEvents step_events(const TrainConfig& tc, const std::vector<std::int64_t>& log_evals, std::int64_t step,
                       std::int64_t end, bool have_val, bool interrupted, bool out_of_time) {
  StepEvents e;
  e.interrupted = interrupted;
  e.out_of_time = out_of_time;
  e.stopping = step == end || e.interrupted || e.out_of_time;
  e.log = step % tc.log_every == 0 || e.stopping;
  // Evaluate on the cadence, at the log-spaced points and when the run ends normally; a Ctrl-C
  // wants out now.
  e.eval = have_val && ((tc.eval_every > 0 && step % tc.eval_every == 0) ||
                        std::binary_search(log_evals.begin(), log_evals.end(), step) || (e.stopping && !e.interrupted));
  return e;
}

// Every rank starts from rank 0's weights (its structured init, or its draw of the seed).
void broadcast_weights(Net& model, dist::ProcessGroup& group) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> params;
  for (auto& p : model.module().parameters()) params.push_back(p.detach());
  group.broadcast(params, 0);
}

// The step's loss averaged over the ranks and each rank's stop signals, in one small collective
// after the gradients' (dist::GradReducer). Returns the stop signals, agreed.
struct Agreed {
  bool interrupted, out_of_time;
};
Agreed agree_over_ranks(torch::Tensor& step_loss, bool interrupted, bool out_of_time, dist::ProcessGroup& group) {
  auto control = torch::stack({step_loss.to(torch::kFloat32), torch::tensor(interrupted ? 1.0f : 0.0f),
                               torch::tensor(out_of_time ? 1.0f : 0.0f)});
  std::vector<torch::Tensor> bucket = {control};
  group.allreduce_mean(bucket);
  step_loss = control[0].clone();
  return {control[1].item<float>() > 0, control[2].item<float>() > 0};  // any rank
}

}  // namespace

TrainResult train(const RunConfig& cfg, const std::string& run_dir, bool resume, std::int64_t eot,
                  dist::ProcessGroup* group) {
  if (eot < 0) eot = cfg.model.vocab_size - 1;  // structlm's and GPT-2's tokenizers put it last
  const TrainConfig& tc = cfg.train;
  const auto t_start = std::chrono::steady_clock::now();
  model::init_threads(tc.threads);
  const torch::Device device = model::resolve_device(tc.device);
  const model::PrecisionChoice precision = model::resolve_precision(tc.precision, device);
  if (cfg.data.train_shards.empty()) fail(run_dir, "data.train_shards is empty: nothing to train on");
  const int W = group ? group->world_size() : 1, rank = group ? group->rank() : 0;
  const bool lead = rank == 0;  // writes the run directory and prints
  if (W > 1 && !device.is_cpu())
    fail(run_dir, "data-parallel training runs on CPU (Gloo) for now; train.device is " + device.str());

  tc.check_keep_steps(run_dir + " (train.keep_steps)");
  make_dirs(run_dir);
  const std::string metrics_path = run_dir + "/metrics.jsonl";
  const std::string latest = latest_checkpoint_path(run_dir);
  check(resume || !file_exists(latest), run_dir,
        "already holds a training run (checkpoints/latest.safetensors); resume it or use a new directory");
  check(!resume || file_exists(latest), latest, "no checkpoint to resume from");

  const RunData data = open_data(cfg);
  const data::TokenStream& train_data = data.train;
  const data::TokenStream* val_data = data.val.get();
  const int T = int(cfg.model.block_size), B = int(tc.batch_size), A = int(tc.grad_accum);

  // The initial weights depend only on the seed (a resumed run overwrites them anyway).
  torch::manual_seed(tc.seed);
  Net model{zoo::make_model(cfg.model, run_dir)};
  model.module().to(device);
  std::vector<torch::Tensor> decay = model.decay_params(), no_decay = model.no_decay_params(), all_params = decay;
  all_params.insert(all_params.end(), no_decay.begin(), no_decay.end());
  // CSTDE's own parameters get model.cstde.lr_mult and its decay rule (param_groups); the
  // gradient norm below still runs over all_params in the model's order, as before.
  const std::map<const void*, std::string> names = parameter_names(model);
  AdamW opt(param_groups(decay, no_decay, names, cfg.model.cstde), names,
            AdamWOptions{tc.beta1, tc.beta2, tc.eps, tc.weight_decay});
  if (lead) print_model_line(model, cfg, device, precision);
  if (lead && W > 1)
    std::fprintf(stderr, "data-parallel: %d ranks x %d micro-batches of %d = %lld windows per step\n", W, A, B,
                 (long long)W * A * B);

  TrainState state;
  state.world_size = W;
  if (resume) {
    // Every rank reads the optimizer's moments; the weights are the same file on every rank.
    state = restore_run(latest, cfg, W, model, opt);
    if (lead) {
      truncate_metrics(metrics_path, state.step);
      std::fprintf(stderr, "resuming %s at step %lld\n", run_dir.c_str(), (long long)state.step);
    }
  } else if (lead) {
    if (file_exists(metrics_path)) write_file_atomic(metrics_path, "");  // a fresh run starts a fresh log
    if (cfg.model.cstde.init) apply_structured_init(model.m.lm(), cfg, train_data, run_dir, eot, W);
  }
  if (group) broadcast_weights(model, *group);
  // Buckets in the order of registration, reversed inside: roughly the backward pass's order.
  std::optional<dist::GradReducer> reducer;
  if (group) {
    reducer.emplace(*group, model.module().parameters(), std::int64_t(tc.bucket_mb * 1024 * 1024));
    if (lead)
      std::fprintf(stderr, "data-parallel: gradients in %d buckets of at most %.1f MiB, all-reduced during backward\n",
                   reducer->buckets(), double(reducer->largest_bucket_bytes()) / (1024.0 * 1024.0));
  }
  if (lead) {
    save_json(run_dir + "/config.json", cfg.to_json());
    record_precision(run_dir, precision);
  }

  TrainResult result;
  result.last_checkpoint = resume ? latest : "";
  const std::int64_t end = tc.stop_at_step > 0 ? std::min(tc.stop_at_step, tc.max_steps) : tc.max_steps;
  if (state.step >= end) {
    fill_result(result, state, seconds_since(t_start), 0);
    return result;
  }

  SigintGuard sigint;
  std::optional<Progress> progress;
  if (lead) progress.emplace("train", tc.max_steps);
  // One optimizer step's batch: B * A * W windows of T + 1 tokens, drawn at once and cut into
  // micro-batches of B, so grad_accum and the number of ranks change only memory use and speed,
  // not which data a step sees. This rank takes micro-batches [rank A, (rank + 1) A).
  std::vector<std::int64_t> buf(std::size_t(B) * A * W * (T + 1));
  const std::int64_t tokens_per_step = std::int64_t(B) * A * W * T;
  const auto t_loop = std::chrono::steady_clock::now();
  const std::int64_t first_step = state.step;
  const std::vector<std::int64_t> log_evals = tc.log_eval_steps();
  LogClock clock;
  clock.last_log_step = state.step;
  model.module().train();

  while (state.step < end) {
    const std::int64_t step = state.step;  // 0-based index of the step being taken
    const double lr = lr_at(tc, step);
    step_batch(train_data, tc, T, W, step, buf.data());
    auto batch = torch::from_blob(buf.data(), {std::int64_t(B) * A * W, T + 1}, torch::kLong)
                     .slice(0, std::int64_t(rank) * A * B, std::int64_t(rank + 1) * A * B)
                     .to(device, false, true);

    opt.zero_grad();
    torch::Tensor step_loss = accumulate_gradients(model, batch, B, A, T, tc.seed, step, precision.precision, rank * A,
                                                   reducer ? &*reducer : nullptr);
    bool interrupted = g_interrupted != 0;
    bool out_of_time = tc.max_minutes > 0 && seconds_since(t_start) >= tc.max_minutes * 60.0;
    if (group) {
      clock.allreduce_wait_s += reducer->finish();
      const Agreed agreed = agree_over_ranks(step_loss, interrupted, out_of_time, *group);
      interrupted = agreed.interrupted;
      out_of_time = agreed.out_of_time;
    }
    torch::Tensor grad_norm = global_grad_norm(all_params);
    opt.step(lr, clip_scale(grad_norm, tc.grad_clip));  // clipping applied inside the update
    state.step = step + 1;
    state.tokens_seen += tokens_per_step;

    const double now_s = seconds_since(t_loop);
    const StepEvents ev = step_events(tc, log_evals, state.step, end, val_data != nullptr, interrupted, out_of_time);
    if (ev.log || ev.eval) {
      // Every rank evaluates its share; rank 0 writes the line.
      report::MetricLine rec = step_record(model, val_data, tc, T, device, precision.precision, state, clock, ev.log, ev.eval, lr, now_s, tokens_per_step,
                             step_loss, grad_norm, group);
      rec.elapsed_s = seconds_since(t_start);
      if (lead) append_line(metrics_path, rec.to_json().dump());
    }
    if (lead && !(ev.stopping && state.step == tc.max_steps)) progress->update(state.step, clock.fields);  // finish() draws the last

    const bool keep = std::find(tc.keep_steps.begin(), tc.keep_steps.end(), state.step) != tc.keep_steps.end();
    if ((tc.ckpt_every > 0 && state.step % tc.ckpt_every == 0) || ev.stopping || keep)
      result.last_checkpoint =
          lead ? (model.m.gpt ? write_run_checkpoint(run_dir, model.m.gpt, opt, cfg, state)
                              : write_run_checkpoint(run_dir, model.m.llama, opt, cfg, state))
               : step_checkpoint_path(run_dir, state.step);
    if (ev.stopping) {
      if (lead && (ev.interrupted || ev.out_of_time))
        std::fprintf(stderr, "\nstopped at step %lld (%s); checkpoint %s\n", (long long)state.step,
                     ev.interrupted ? "interrupted" : "time limit reached", result.last_checkpoint.c_str());
      else if (lead && state.step == tc.max_steps)
        progress->finish(clock.fields);
      break;
    }
  }
  if (group) group->barrier();  // every rank returns once rank 0's last checkpoint is written

  const double loop_s = seconds_since(t_loop);
  fill_result(result, state, seconds_since(t_start),
              loop_s > 0 ? double(state.step - first_step) * double(tokens_per_step) / loop_s : 0);
  return result;
}

}  // namespace structlm::train
