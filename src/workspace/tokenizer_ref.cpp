#include "workspace/tokenizer_ref.h"

#include <filesystem>

#include "core/io.h"
#include "workspace/workspace.h"

namespace structlm::workspace {

namespace fs = std::filesystem;

TokenizerRef TokenizerRef::absolute() const {
  return is_directory() ? TokenizerRef(Workspace::absolute(spec_)) : *this;
}

TokenizerRef TokenizerRef::anchored(const std::string& base) const {
  if (!is_directory() || fs::path(spec_).is_absolute()) return *this;
  if (structlm::is_directory(spec_)) return absolute();
  return TokenizerRef(Workspace::absolute((fs::path(base) / spec_).string()));
}

}  // namespace structlm::workspace
