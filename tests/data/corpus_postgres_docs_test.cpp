// The PostgreSQL documentation (postgres-docs): DocBook's HTML pages as postgresql-doc-15 ships
// them (pages cut from tutorial-select.html, sql-createtable.html and catalog-pg-am.html,
// PostgreSQL licence): navigation, tables of contents, synopses, code blocks and footnotes go.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/io.h"
#include "data/corpus.h"
#include "data/corpus_internal.h"
#include "data/html_text.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

const char* const kHead =
    R"(<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" /><title>2.5. Querying a Table</title><link rel="stylesheet" type="text/css" href="stylesheet.css" /></head><body id="docContent" class="container-fluid col-10"><div class="navheader"><table width="100%" summary="Navigation header"><tr><th colspan="5" align="center">2.5. Querying a Table</th></tr><tr><td width="10%" align="left"><a accesskey="p" href="tutorial-populate.html" title="2.4. Populating a Table With Rows">Prev</a> </td><td width="10%" align="left"><a accesskey="u" href="tutorial-sql.html" title="Chapter 2. The SQL Language">Up</a></td></tr></table><hr /></div>)";
const char* const kFoot =
    R"(<div class="navfooter"><hr /><table width="100%" summary="Navigation footer"><tr><td width="40%" align="left"><a accesskey="p" href="tutorial-populate.html">Prev</a> </td><td width="40%" align="right"> <a accesskey="n" href="tutorial-join.html">Next</a></td></tr><tr><td width="40%" align="left" valign="top">2.4. Populating a Table With Rows </td></tr></table></div></body></html>
)";

std::string page(const std::string& body) { return kHead + body + kFoot; }

const char* const kTutorialSelect =
    R"(<div class="sect1" id="TUTORIAL-SELECT"><div class="titlepage"><div><div><h2 class="title" style="clear: both">2.5. Querying a Table</h2></div></div></div><p>
    <a id="id-1.4.4.6.2.1" class="indexterm"></a>
    To retrieve data from a table, the table is
    <em class="firstterm">queried</em>.  An <acronym class="acronym">SQL</acronym>
    <code class="command">SELECT</code> statement is used to do this.  For
    example, to retrieve all the rows of table
    <code class="structname">weather</code>, type:
</p><pre class="programlisting">
SELECT * FROM weather;
</pre><p>
    Here <code class="literal">*</code> is a shorthand for <span class="quote">“<span class="quote">all columns</span>”</span>.
     <a href="#ftn.id-1.4.4.6.2.10" class="footnote"><sup class="footnote" id="id-1.4.4.6.2.10">[2]</sup></a>
</p><pre class="screen">
     city      | temp_lo
---------------+---------
 San Francisco |      46
</pre><div class="footnotes"><br /><hr style="width:100; text-align:left;margin-left: 0" /><div id="ftn.id-1.4.4.6.2.10" class="footnote"><p><a href="#id-1.4.4.6.2.10" class="para"><sup class="para">[2] </sup></a>
        While <code class="literal">SELECT *</code> is useful for off-the-cuff queries, it is widely considered bad style.
      </p></div></div></div>)";

const char* const kCreateTable =
    R"(<div class="refentry" id="SQL-CREATETABLE"><div class="titlepage"></div><a id="id-1.9.3.85.1" class="indexterm"></a><div class="refnamediv"><h2><span class="refentrytitle">CREATE TABLE</span></h2><p>CREATE TABLE — define a new table</p></div><div class="refsynopsisdiv"><h2>Synopsis</h2><pre class="synopsis">
CREATE [ [ GLOBAL | LOCAL ] { TEMPORARY | TEMP } | UNLOGGED ] TABLE [ IF NOT EXISTS ] <em class="replaceable"><code>table_name</code></em> ( [
</pre></div><div class="refsect1" id="id-1.9.3.85.5"><h2>Description</h2><p>
   <code class="command">CREATE TABLE</code> will create a new, initially empty table
   in the current database.
  </p></div></div>)";

const char* const kChapter =
    R"(<div class="chapter" id="TUTORIAL-SQL"><div class="titlepage"><div><div><h2 class="title">Chapter 2. The <acronym class="acronym">SQL</acronym> Language</h2></div></div></div><div class="toc"><p><strong>Table of Contents</strong></p><dl class="toc"><dt><span class="sect1"><a href="tutorial-select.html">2.5. Querying a Table</a></span></dt></dl></div></div>)";

// A catalog table: DocBook writes its cells with no space between them.
const char* const kCatalogTable =
    R"(<div class="table" id="CATALOG-PG-AM-TABLE"><p class="title"><strong>Table 53.3. <code class="structname">pg_am</code> Columns</strong></p><div class="table-contents"><table class="table" summary="pg_am Columns" border="1"><tbody><tr><td class="catalog_table_entry"><code class="structfield">amname</code> <code class="type">name</code></td><td>Name of the access method</td></tr></tbody></table></div></div>)";

}  // namespace

TEST(PostgresDocsCorpus, OnePerPageWithoutNavigationSynopsesCodeOrFootnotes) {
  TempDir t;
  write_file_atomic(t / "tutorial-select.html", page(kTutorialSelect));
  write_file_atomic(t / "sql-createtable.html", page(kCreateTable));
  write_file_atomic(t / "tutorial-sql.html", page(kChapter));
  write_file_atomic(t / "catalog-pg-am.html", page(kCatalogTable));
  write_file_atomic(t / "bookindex.html", page("<div class=\"index\"><p>SELECT, Querying a Table</p></div>"));
  write_file_atomic(t / "stylesheet.css", "body { margin: 0 }");
  write_file_atomic(t / "gin.svg", "<svg/>");
  CorpusPaths p;
  p.postgres_docs_dir = t.path();
  const Corpus c = load_corpus("postgres-docs", p);
  EXPECT_EQ(c.name, "postgres-docs");
  ASSERT_EQ(c.docs.size(), 4u);
  EXPECT_EQ(c.docs[0].id, "catalog-pg-am");
  EXPECT_EQ(c.docs[0].text, "Table 53.3. pg_am Columns\n\namname name Name of the access method");
  EXPECT_EQ(c.docs[1].id, "sql-createtable");
  EXPECT_EQ(c.docs[1].text,
            "CREATE TABLE\n\nCREATE TABLE — define a new table\n\nDescription\n\n"
            "CREATE TABLE will create a new, initially empty table in the current database.");
  EXPECT_EQ(c.docs[2].id, "tutorial-select");
  EXPECT_EQ(c.docs[2].text,
            "2.5. Querying a Table\n\n"
            "To retrieve data from a table, the table is queried. An SQL SELECT statement is used to do this. For "
            "example, to retrieve all the rows of table weather, type:\n\n"
            "Here * is a shorthand for “all columns”.");
  EXPECT_EQ(c.docs[3].id, "tutorial-sql");
  EXPECT_EQ(c.docs[3].text, "Chapter 2. The SQL Language");

  // Without the class rules, navigation, synopsis, table of contents and footnotes would stay.
  const std::string raw = detail::html_to_text(page(kTutorialSelect) + "", "x.html");
  EXPECT_NE(raw.find("Prev Up"), std::string::npos) << raw;
  EXPECT_NE(raw.find("[2]"), std::string::npos) << raw;
  EXPECT_NE(detail::html_to_text(page(kCreateTable), "x.html").find("Synopsis"), std::string::npos);
  EXPECT_NE(detail::html_to_text(page(kChapter), "x.html").find("Table of Contents"), std::string::npos);
}

TEST(PostgresDocsCorpus, DamagedPagesAndAMissingPackageAreNamed) {
  TempDir t;
  write_file_atomic(t / "tutorial-select.html", page(kTutorialSelect));
  write_file_atomic(t / "broken.html", page(kTutorialSelect).substr(0, 900));
  CorpusPaths p;
  p.postgres_docs_dir = t.path();
  std::string e = error_of([&] { load_corpus("postgres-docs", p); });
  EXPECT_NE(e.find(t / "broken.html"), std::string::npos) << e;
  EXPECT_NE(e.find("cut short"), std::string::npos) << e;
  write_file_atomic(t / "broken.html", std::string("\x00\xff\x10<html></html>", 16));
  e = error_of([&] { load_corpus("postgres-docs", p); });
  EXPECT_NE(e.find(t / "broken.html"), std::string::npos) << e;
  p.postgres_docs_dir = t / "nowhere";
  e = error_of([&] { load_corpus("postgres-docs", p); });
  EXPECT_NE(e.find("postgresql-doc-15"), std::string::npos) << e;
  EXPECT_NE(e.find(t / "nowhere"), std::string::npos) << e;
}

// The package itself, where scripts/setup.sh --corpus postgres-docs installed it.
TEST(PostgresDocsCorpus, RealPagesWhereInstalled) {
  const CorpusPaths p;
  if (!is_directory(p.postgres_docs_dir))
    GTEST_SKIP() << "postgresql-doc-15 not installed; scripts/setup.sh --corpus postgres-docs installs it";
  const Corpus c = load_corpus("postgres-docs", p);
  EXPECT_GT(c.docs.size(), 1100u);
  for (const auto& d : c.docs) {
    EXPECT_EQ(d.text.find("Prev Up"), std::string::npos) << d.id;
    if (d.id == "tutorial-select") {
      EXPECT_EQ(d.text.rfind("2.5.\xc2\xa0Querying a Table\n\nTo retrieve data from a table, the table is queried.", 0), 0u)
          << d.text.substr(0, 100);
      EXPECT_EQ(d.text.find("SELECT * FROM weather;"), std::string::npos);  // a code block
    }
  }
}
