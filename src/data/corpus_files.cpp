// Corpora a user points at: a text file (.txt/.md), a JSONL file, or a directory of files. Each is
// read as a stream, one document at a time, so a file of many gigabytes needs no more memory than
// its longest document (a JSONL line, a paragraph of a text file, a file of a directory).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/utf8.h"
#include "data/corpus_internal.h"
#include "data/text_check.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

namespace {

// Lines of a file, '\n' cut off (a trailing '\r' kept: callers decide), with the offset of each
// line's first byte and whether the file ended without a newline after it.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path) {
    if (is_directory(path)) fail(path, "is a directory, expected a file");
    in_.rdbuf()->pubsetbuf(buf_.data(), std::streamsize(buf_.size()));  // before open, or it is ignored
    in_.open(path, std::ios::binary);
    if (!in_) fail(path, "cannot open for reading (" + std::string(std::strerror(errno)) + ")");
  }
  bool next(std::string& line) {
    offset_ = next_offset_;
    if (!std::getline(in_, line)) {
      if (in_.bad()) fail(path_, "read error after line " + std::to_string(lineno_));
      return false;
    }
    ++lineno_;
    unterminated_ = in_.eof();  // getline hit the end before a '\n'
    next_offset_ = offset_ + line.size() + (unterminated_ ? 0 : 1);
    return true;
  }
  std::size_t lineno() const { return lineno_; }
  std::uint64_t offset() const { return offset_; }       // of the line last read
  std::uint64_t consumed() const { return next_offset_; }  // bytes read so far
  bool unterminated() const { return unterminated_; }

 private:
  std::string path_;
  std::vector<char> buf_ = std::vector<char>(1 << 20);
  std::ifstream in_;
  std::size_t lineno_ = 0;
  std::uint64_t offset_ = 0, next_offset_ = 0;
  bool unterminated_ = false;
};

// Reports progress every 16 MB, and once at the end.
struct Ticker {
  const ProgressFn& fn;
  std::uint64_t total, last = 0;
  void operator()(std::uint64_t done) {
    if (fn && (done - last >= (16u << 20) || done == total)) {
      fn(done, total);
      last = done;
    }
  }
};

// pack_pieces, one piece at a time: whole paragraphs joined by a blank line into documents of
// about `max_chars` bytes, ids `prefix#k`.
class Packer {
 public:
  Packer(std::string prefix, std::size_t max_chars, const DocFn& fn)
      : prefix_(std::move(prefix)), max_chars_(max_chars), fn_(fn) {}
  void add(const std::string& piece) {
    if (count_ > 0) text_ += "\n\n";
    text_ += piece;
    ++count_;
    if (text_.size() >= max_chars_) close();
  }
  void close() {
    if (count_ == 0) return;
    fn_({prefix_ + "#" + std::to_string(k_++), std::move(text_)});
    text_.clear();
    count_ = 0;
  }
  std::size_t documents() const { return k_; }

 private:
  std::string prefix_;
  std::size_t max_chars_;
  const DocFn& fn_;
  std::string text_;
  std::size_t count_ = 0, k_ = 0;
};

}  // namespace

// A long text file is one work, but one document would put all of it in a single split; chunks of
// whole paragraphs make splitting by document meaningful and never cut a paragraph. The same
// documents as pack_pieces(split_paragraphs(text), ...) of the whole file, and the same checks as
// check_is_text, made line by line (a '\n' never falls inside a UTF-8 sequence): a NUL byte
// anywhere is named first, then the first byte that does not decode, then too many controls.
Corpus stream_text_file(const std::string& path, std::size_t doc_chars, const DocFn& fn, const ProgressFn& progress) {
  const std::string stem = fs::path(path).stem().string();
  Corpus c{stem, path, {}};
  LineReader lines(path);
  Ticker tick{progress, file_size(path)};
  Packer packer(stem, doc_chars ? doc_chars : 8192, fn);
  std::string line, para;
  std::uint64_t control = 0, bad_utf8 = std::uint64_t(-1);
  unsigned char bad_byte = 0;
  while (lines.next(line)) {
    if (const void* nul = std::memchr(line.data(), '\0', line.size()))
      fail(path, "not a text file (a NUL byte at offset " +
                     std::to_string(lines.offset() + std::uint64_t(static_cast<const char*>(nul) - line.data())) +
                     "); corpora are read from UTF-8 text");
    if (bad_utf8 != std::uint64_t(-1)) continue;  // only a NUL byte could still come first
    const auto bad = invalid_utf8_offset(line);
    if (bad != std::string::npos) {
      // Found, but a NUL byte later in the file is the better message (a binary file): look on.
      bad_utf8 = lines.offset() + bad;
      bad_byte = static_cast<unsigned char>(line[bad]);
      continue;
    }
    for (unsigned char ch : line)
      if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f' && ch != '\v') || ch == 0x7f) ++control;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) {
      if (!para.empty()) packer.add(para);
      para.clear();
    } else {
      if (!para.empty()) para += '\n';
      para += line;
    }
    tick(lines.consumed());
  }
  if (bad_utf8 != std::uint64_t(-1)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", bad_byte);
    fail(path, std::string("not UTF-8 text (byte ") + hex + " at offset " + std::to_string(bad_utf8) +
                   " does not decode); convert it first, e.g. iconv -f latin1 -t utf-8");
  }
  // A stray escape or bell in real text is rare; one byte in a hundred is a binary format.
  const std::uint64_t bytes = lines.consumed();
  if (control * 100 > bytes)
    fail(path, "not a text file (" + std::to_string(control) + " control characters in " + std::to_string(bytes) +
                   " bytes)");
  if (!para.empty()) packer.add(para);
  packer.close();
  if (packer.documents() == 0) fail(path, "holds no text");
  tick(tick.total);
  return c;
}

Corpus stream_jsonl_file(const std::string& path, const DocFn& fn, const ProgressFn& progress) {
  const std::string stem = fs::path(path).stem().string();
  Corpus c{stem, path, {}};
  LineReader lines(path);
  Ticker tick{progress, file_size(path)};
  std::string line;
  std::size_t documents = 0;
  while (lines.next(line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tick(lines.consumed());
    if (trim(line).empty()) continue;
    const std::size_t lineno = lines.lineno();
    const std::string where = "line " + std::to_string(lineno) + ": ";
    // The last line without its newline, and not JSON: most likely a file cut short.
    const std::string cut = lines.unterminated() ? " (the file ends inside this line: truncated?)" : "";
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      fail(path, where + "invalid JSON at byte " + std::to_string(e.byte) + cut);
    } catch (const json::exception& e) {  // a number beyond double ("1e400") is out_of_range
      fail(path, where + "invalid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) fail(path, where + "expected an object like {\"text\": ...}, got " + j.type_name());
    auto text = j.find("text");
    if (text == j.end() || !text->is_string()) fail(path, where + "missing string field 'text'");
    Document d;
    d.text = std::move(text->get_ref<std::string&>());
    auto id = j.find("id");
    if (id == j.end() || id->is_null()) {
      d.id = stem + ":" + std::to_string(lineno);  // stable as long as the file is not edited
    } else if (id->is_string()) {
      d.id = std::move(id->get_ref<std::string&>());
    } else if (id->is_number_integer()) {
      d.id = id->dump();
    } else {
      fail(path, where + "field 'id' must be a string or an integer");
    }
    ++documents;
    fn(std::move(d));
  }
  if (documents == 0) fail(path, "holds no documents");
  tick(tick.total);
  return c;
}

Corpus stream_directory(const std::string& path, const DocFn& fn, const ProgressFn& progress) {
  fs::path root(path);
  std::string name = root.filename().string();
  if (name.empty() || name == ".") name = root.parent_path().filename().string();  // "dir/" or "dir/."
  Corpus c{name.empty() ? "corpus" : name, path, {}};
  const auto files = list_files(path, /*recursive=*/true);
  if (files.empty()) fail(path, "holds no files");
  std::uint64_t total = 0, done = 0;
  if (progress)
    for (const auto& f : files) total += file_size(f);
  Ticker tick{progress, total};
  // Ids are paths relative to the directory, so they survive moving the directory.
  for (const auto& f : files) {
    std::string text = read_file(f);
    check_is_text(text, f);  // one binary file refuses the directory, naming the file
    done += text.size();
    fn({fs::path(f).lexically_relative(root).generic_string(), std::move(text)});
    tick(done);
  }
  tick(total);
  return c;
}

}  // namespace structlm::data::detail
