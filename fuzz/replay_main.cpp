// A main() for the fuzz targets when libFuzzer is not there (gcc builds, the sanitizer test):
// runs LLVMFuzzerTestOneInput once on every file named, or every file in a directory named, so
// the seed corpora and saved reproducers replay under ASan + UBSan in the ordinary test suite.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

static void collect(const std::string& path, std::vector<std::string>& files) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "%s: cannot stat\n", path.c_str());
    std::exit(2);
  }
  if (!S_ISDIR(st.st_mode)) {
    files.push_back(path);
    return;
  }
  DIR* dir = ::opendir(path.c_str());
  std::vector<std::string> names;
  while (dirent* e = dir ? ::readdir(dir) : nullptr)
    if (e->d_name[0] != '.') names.push_back(path + "/" + e->d_name);
  if (dir) ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) collect(n, files);
}

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) collect(argv[i], files);
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR... (no inputs found)\n", argv[0]);
    return 2;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A copy of exactly the file's size, so ASan sees a read one byte past the end.
    std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
  }
  std::printf("%s: %zu inputs ran clean\n", argv[0], files.size());
  return 0;
}
