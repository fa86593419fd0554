// The command-line flags of the two child steps, `structlm train` and `structlm align`, spelled
// once: src/cli/cmd_train.cpp and cmd_align.cpp define their options with these names, and
// experiment/steps.cpp builds a child's arguments from the same names (train_args, align_args),
// so a renamed flag cannot leave the experiments calling the old one.
#pragma once

namespace structlm::experiment::flag {

// Every command (src/cli/workspace_flags.cpp).
inline constexpr const char* kRoot = "--root";
inline constexpr const char* kDataDir = "--data-dir";
// structlm train
inline constexpr const char* kConfig = "--config";
inline constexpr const char* kRunDir = "--run-dir";
inline constexpr const char* kResume = "--resume";
inline constexpr const char* kAutoResume = "--auto-resume";
inline constexpr const char* kSet = "--set";
inline constexpr const char* kCorpus = "--corpus";
inline constexpr const char* kTokenizer = "--tokenizer";
// structlm align (also kConfig, kTokenizer, kSet)
inline constexpr const char* kModel = "--model";
inline constexpr const char* kCalib = "--calib";
inline constexpr const char* kOut = "--out";
inline constexpr const char* kReport = "--report";
inline constexpr const char* kDevice = "--device";
inline constexpr const char* kThreads = "--threads";
inline constexpr const char* kContext = "--context";

}  // namespace structlm::experiment::flag
