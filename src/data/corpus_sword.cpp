// SWORD modules (CrossWire's Bible software format), as Debian ships them under /usr/share/sword,
// read through the `diatheke` tool (Debian diatheke): their data files are compressed in SWORD's
// own formats, and diatheke reads them all. One process per module prints every entry in a key
// range, one entry a line: `[pre-verse markup]Book C:V: markup`, then `(MODULE)`. `-f internal`
// gives the module's own OSIS markup, which osis_text.h turns into text (`-f plain` glues the
// words around a footnote it drops, and repeats a psalm's title before every later verse when
// headings are off); `-o fh` keeps footnotes and headings in the markup so that we decide.
//
//   web       sword-text-web (World English Bible with Deuterocanon, module engWEB2015eb; public
//             domain): one document per chapter (id `Genesis 1`), one verse a line, a psalm's
//             title or other pre-verse heading a line of its own. Book introductions are not read
//             (titles, the translators' preface, and the Greek Daniel, which the module files
//             under `Hosea 0:0`); the WEB glossary the module appends to Revelation 22:21 goes.
//   mhcc      sword-comm-mhcc (Matthew Henry's Concise Commentary; public domain) and
//   scofield  sword-comm-scofield (Scofield Reference Notes, 1917; public domain): one document
//             per chapter commented on (id `Genesis 1`), book and chapter introductions (keys
//             `Genesis 0:0`, `Genesis 1:0`) joining chapter 1 / their chapter.
//   tdavid    sword-comm-tdavid (Spurgeon's Treasury of David; public domain): it files all of a
//             psalm under its first verse, 80 KB on average and 1.4 MB for Psalm 119, so one
//             document per section of a psalm (id `Psalms 23#k`, k from 0): each heading
//             (OVERVIEW, EXPOSITION, EXPLANATORY NOTES AND QUAINT SAYINGS, HINTS TO THE VILLAGE
//             PREACHER, and Psalm 119's per-stanza ones) starts one, but a heading with no text
//             of its own before the next joins that one. The preface (key `Psalms 0:0`) is the
//             first section of Psalm 1.
// A commentary entry linked to several verses is printed once per verse; it is kept once.
#include <stdlib.h>

#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "core/subprocess.h"
#include "data/corpus_internal.h"
#include "data/osis_text.h"

namespace fs = std::filesystem;

namespace structlm::data::detail {

namespace {

struct SwordModule {
  const char* corpus;   // "mhcc"
  const char* module;   // diatheke's name for it (-b): "MHCC"
  const char* conf;     // its file under mods.d/
  const char* package;  // the Debian package that ships it
  bool commentary;      // commentaries: paragraphs, introductions read, one document per chapter
  bool split_at_titles;
};

const SwordModule kWeb{"web", "engWEB2015eb", "engWEB2015eb.conf", "sword-text-web", false, false};
const SwordModule kMhcc{"mhcc", "MHCC", "mhcc.conf", "sword-comm-mhcc", true, false};
const SwordModule kScofield{"scofield", "Scofield", "scofield.conf", "sword-comm-scofield", true, false};
const SwordModule kTdavid{"tdavid", "TDavid", "tdavid.conf", "sword-comm-tdavid", true, true};

std::string install_hint(const SwordModule& m) {
  return std::string("install the Debian packages diatheke and ") + m.package + " (scripts/setup.sh --corpus " +
         m.corpus + ")";
}

// A SWORD library of one module in a fresh temporary folder: mods.d/ holds the module's conf as
// sword_conf_for() corrects it, modules/ links to the package's data. diatheke reads it through
// SWORD_PATH, so neither a broken conf nor ~/.sword or /etc/sword.conf has a say.
class PrivateLibrary {
 public:
  PrivateLibrary(const std::string& sword_dir, const SwordModule& m) {
    const std::string conf_path = sword_dir + "/mods.d/" + m.conf;
    if (!file_exists(conf_path))
      fail(conf_path, std::string("missing: the SWORD module ") + m.module + " is not installed; " + install_hint(m));
    std::string tmpl = (fs::temp_directory_path() / "structlm-sword-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) fail(tmpl, "cannot create a temporary folder");
    path_ = tmpl;
    fs::create_directories(path_ + "/mods.d");
    write_file_atomic(path_ + "/mods.d/" + m.conf, sword_conf_for(read_file(conf_path), sword_dir));
    fs::create_directory_symlink(fs::absolute(sword_dir + "/modules"), path_ + "/modules");
  }
  ~PrivateLibrary() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  PrivateLibrary(const PrivateLibrary&) = delete;
  PrivateLibrary& operator=(const PrivateLibrary&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Entry {
  std::string book;
  int chapter = 0, verse = 0;
  std::string preverse, body;  // markup printed before the key (headings), and the entry's own
};

bool all_digits(const std::string& s, std::size_t b, std::size_t e) {
  if (b >= e) return false;
  for (std::size_t i = b; i < e; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

// `Book C:V: ` at line[p]: fills e's key and body. `[ Testament 2 Heading ]: ` (what -o i adds
// between the testaments: an importer's stamp) is a key too, with no book.
bool key_at(const std::string& line, std::size_t p, Entry& e) {
  if (line.compare(p, 2, "[ ") == 0) {
    const std::size_t end = line.find(" Heading ]: ", p);
    if (end == std::string::npos || line.find_first_of("<>", p) < end) return false;
    e = Entry{};
    e.preverse = line.substr(0, p);
    e.body = line.substr(end + 12);
    return true;
  }
  const std::size_t colon = line.find(':', p);
  if (colon == std::string::npos || line.find_first_of("<>", p) < colon) return false;
  const std::size_t space = line.rfind(' ', colon);
  if (space == std::string::npos || space <= p || !all_digits(line, space + 1, colon)) return false;
  const std::size_t end = line.find(": ", colon + 1);
  if (end == std::string::npos || !all_digits(line, colon + 1, end)) return false;
  e.book = line.substr(p, space - p);
  e.chapter = std::stoi(line.substr(space + 1, colon - space - 1));
  e.verse = std::stoi(line.substr(colon + 1, end - colon - 1));
  e.preverse = line.substr(0, p);
  e.body = line.substr(end + 2);
  return true;
}

// One line of diatheke's output: the key starts the line or follows the pre-verse markup, so it
// is looked for at the start and after each `>`, the first match winning.
bool parse_entry(const std::string& line, Entry& e) {
  for (std::size_t p = 0;;) {
    std::size_t q = p;
    while (q < line.size() && line[q] == ' ') ++q;
    if (key_at(line, q, e)) return true;
    p = line.find('>', p);
    if (p == std::string::npos) return false;
    ++p;
  }
}

std::vector<Entry> read_module(const CorpusPaths& paths, const SwordModule& m) {
  const std::string& tool = paths.diatheke_tool;
  if (!program_available(tool)) fail(tool, "the SWORD reader diatheke is not installed; " + install_hint(m));
  PrivateLibrary lib(paths.sword_dir, m);
  // Commentaries: from the first book's introduction (key 0:0, with -o i), KJV versification.
  ProcessResult r = run_process({"env", "SWORD_PATH=" + lib.path(), tool, "-b", m.module, "-f", "internal", "-o",
                                 m.commentary ? "fhi" : "fh", "-l", "en", "-k",
                                 m.commentary ? "Gen 0:0-Rev 22:21" : "Gen 1:1-Rev 22:21"});
  const std::string who = tool + " -b " + m.module;
  if (r.exit_code != 0) {
    const std::string said = r.err.substr(0, r.err.find('\n'));
    fail(who, "failed (exit " + std::to_string(r.exit_code) + ": " + said + "); " + install_hint(m));
  }
  std::vector<Entry> entries;
  const std::string last = std::string("(") + m.module + ")";
  std::size_t start = 0, lineno = 0;
  while (start < r.out.size()) {
    std::size_t end = r.out.find('\n', start);
    if (end == std::string::npos) end = r.out.size();
    const std::string line = r.out.substr(start, end - start);
    start = end + 1;
    ++lineno;
    Entry e;
    if (parse_entry(line, e)) {
      entries.push_back(std::move(e));
    } else if (line == last || line.empty()) {
      continue;
    } else if (!entries.empty()) {
      entries.back().body += "\n" + line;  // an entry whose markup holds a line break
    } else {
      fail(who, "unexpected output at line " + std::to_string(lineno) + ": " + line.substr(0, 80));
    }
  }
  if (entries.empty()) fail(who, "printed no entries (module not found by diatheke?); " + install_hint(m));
  return entries;
}

std::string where(const SwordModule& m, const Entry& e) {
  return std::string("diatheke -b ") + m.module + ", " + e.book + " " + std::to_string(e.chapter) + ":" +
         std::to_string(e.verse);
}

// The WEB module appends its glossary (a word list) to the last verse of Revelation.
std::string without_glossary(const std::string& body) {
  const std::size_t g = body.find("type=\"glossary\"");
  return g == std::string::npos ? body : body.substr(0, body.rfind('<', g));
}

Corpus load_bible(const CorpusPaths& paths, const SwordModule& m) {
  Corpus c{m.corpus, paths.sword_dir + "/mods.d/" + m.conf + " (" + m.package + ")", {}};
  for (const Entry& e : read_module(paths, m)) {
    if (e.book.empty()) continue;  // a testament's heading
    std::string lines;
    for (const std::string& part : {e.preverse, without_glossary(e.body)}) {
      const std::string t = osis_to_text(part, /*paragraphs=*/false, where(m, e));
      if (!t.empty()) lines += (lines.empty() ? "" : "\n") + t;
    }
    if (lines.empty()) continue;  // a verse this translation leaves out (Matthew 17:21, ...)
    const std::string id = e.book + " " + std::to_string(e.chapter);
    if (c.docs.empty() || c.docs.back().id != id) c.docs.push_back({id, lines});
    else c.docs.back().text += "\n" + lines;
  }
  if (c.docs.empty()) fail(c.source, "holds no verses");
  return c;
}

// A chapter's markup split before each <title>: the sections of a Treasury of David psalm.
std::vector<std::string> sections(const std::string& markup) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t t = markup.find("<title", 1); t != std::string::npos; t = markup.find("<title", t + 1)) {
    out.push_back(markup.substr(start, t - start));
    start = t;
  }
  out.push_back(markup.substr(start));
  return out;
}

Corpus load_commentary(const CorpusPaths& paths, const SwordModule& m) {
  Corpus c{m.corpus, paths.sword_dir + "/mods.d/" + m.conf + " (" + m.package + ")", {}};
  std::string chapter_id, markup, previous;
  auto close_chapter = [&] {
    if (markup.empty()) return;
    const std::string at = std::string("diatheke -b ") + m.module + ", " + chapter_id;
    if (!m.split_at_titles) {
      std::string text = osis_to_text(markup, /*paragraphs=*/true, at);
      if (!text.empty()) c.docs.push_back({chapter_id, std::move(text)});
    } else {
      // A section that is its heading alone (`Psalm 1 OVERVIEW` right before `TITLE.`) goes with
      // the next one.
      std::size_t k = 0;
      std::string carried;
      for (const std::string& s : sections(markup)) {
        std::string text = osis_to_text(s, /*paragraphs=*/true, at);
        if (text.empty()) continue;
        if (!carried.empty()) text = carried + "\n\n" + text;
        carried.clear();
        if (text.find("\n\n") == std::string::npos) {
          carried = std::move(text);
          continue;
        }
        c.docs.push_back({chapter_id + "#" + std::to_string(k++), std::move(text)});
      }
      if (!carried.empty()) c.docs.push_back({chapter_id + "#" + std::to_string(k), std::move(carried)});
    }
    markup.clear();
  };
  for (const Entry& e : read_module(paths, m)) {
    if (e.book.empty()) continue;  // a testament's heading
    std::string raw = e.preverse + e.body;
    if (raw == previous) continue;  // an entry linked to the verse before
    previous = raw;
    const std::string id = e.book + " " + std::to_string(e.chapter == 0 ? 1 : e.chapter);
    if (id != chapter_id) {
      close_chapter();
      chapter_id = id;
    }
    // Entries are separate paragraphs whatever their markup (a <div/> breaks the text).
    markup += (markup.empty() ? "" : "<div/>") + raw;
  }
  close_chapter();
  if (c.docs.empty()) fail(c.source, "holds no commentary");
  return c;
}

// Where the value of `key=` starts on a line of a conf, and its length; npos if no line sets it.
std::size_t conf_value_at(const std::string& conf, const std::string& key, std::size_t& len) {
  for (std::size_t start = 0; start < conf.size();) {
    std::size_t end = conf.find('\n', start);
    if (end == std::string::npos) end = conf.size();
    if (conf.compare(start, key.size() + 1, key + "=") == 0) {
      const std::size_t at = start + key.size() + 1;
      len = end - at;
      while (len > 0 && (conf[at + len - 1] == '\r' || conf[at + len - 1] == ' ')) --len;
      return at;
    }
    start = end + 1;
  }
  return std::string::npos;
}

std::string conf_value(const std::string& conf, const std::string& key) {
  std::size_t len = 0;
  const std::size_t at = conf_value_at(conf, key, len);
  return at == std::string::npos ? "" : conf.substr(at, len);
}

}  // namespace

std::string sword_conf_for(const std::string& conf, const std::string& sword_dir) {
  // The drivers zCom4/zText4 read the index files ot.czv/nt.czv, zCom/zText read ot.bzv/nt.bzv.
  // sword-comm-mhcc 2.0-1 names zCom4 for bzv files: diatheke then reads the index wrong and
  // files entries under the wrong verses (Psalm 23 shows Proverbs 22), with no error.
  const std::string driver = conf_value(conf, "ModDrv");
  if (driver != "zCom4" && driver != "zText4") return conf;
  std::string data = conf_value(conf, "DataPath");
  if (data.rfind("./", 0) == 0) data = data.substr(2);
  const std::string dir = sword_dir + "/" + data;
  auto has = [&](const char* f) { return file_exists(dir + "/" + f); };
  if (has("ot.czv") || has("nt.czv") || !(has("ot.bzv") || has("nt.bzv"))) return conf;
  std::size_t len = 0;
  const std::size_t at = conf_value_at(conf, "ModDrv", len);
  return conf.substr(0, at) + driver.substr(0, driver.size() - 1) + conf.substr(at + len);
}

Corpus load_web(const CorpusPaths& paths) { return load_bible(paths, kWeb); }
Corpus load_mhcc(const CorpusPaths& paths) { return load_commentary(paths, kMhcc); }
Corpus load_scofield(const CorpusPaths& paths) { return load_commentary(paths, kScofield); }
Corpus load_tdavid(const CorpusPaths& paths) { return load_commentary(paths, kTdavid); }

}  // namespace structlm::data::detail
