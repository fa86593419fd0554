// The Perl documentation (perl-docs): the POD reader on the constructs perl-doc's files use
// (lines and paragraphs modelled on perlretut.pod, perlfunc.pod and perldiag.pod; GPL-1+ or
// Artistic), and the file walk.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/io.h"
#include "data/corpus.h"
#include "data/corpus_internal.h"
#include "data/pod_text.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

const char* const kPod = R"(#!perl: text before the first command is not POD

=head1 NAME
X<regex> X<regexp>

perlretut - Perl regular expressions tutorial

=head1 DESCRIPTION

This page provides a basic tutorial on understanding regular
expressions in Perl.  It complements L<perlre> and L<the operators page|perlop>;
see also L<perlop/"Quote and Quote-like Operators"> and L</Part 2>.

    if ("Hello World" =~ /World/) {
        print "It matches\n";
    }

Write C<< $a <=> $b >> or C<$x E<lt> 1>, and B<never> I<ever> F</etc/passwd>.
Caf E<eacute> E<0x201E>quoteE<8220> and Z<>S<a b>.

=over 4

=item *

A bullet's paragraph.

=item 2.

=item open FILEHANDLE,EXPR
X<open>

Opens the file.

=back

=for hackers
Found in file regcomp.c

=begin comment

This is for other formatters.

=end comment

=cut

sub not_pod { 1 }

=pod

Back in POD.
)";

}  // namespace

TEST(PodText, ProseHeadingsAndLabelsWithoutCodeOrIndexEntries) {
  EXPECT_EQ(detail::pod_to_text(kPod, "perlretut.pod"),
            "NAME\n\n"
            "perlretut - Perl regular expressions tutorial\n\n"
            "DESCRIPTION\n\n"
            "This page provides a basic tutorial on understanding regular expressions in Perl. It complements perlre "
            "and the operators page; see also \"Quote and Quote-like Operators\" in perlop and \"Part 2\".\n\n"
            "Write $a <=> $b or $x < 1, and never ever /etc/passwd. Caf \xc3\xa9 \xe2\x80\x9equote\xe2\x80\x9c and "
            "a b.\n\n"
            "A bullet's paragraph.\n\n"
            "open FILEHANDLE,EXPR\n\n"
            "Opens the file.\n\n"
            "Back in POD.");
}

TEST(PodText, MalformedCodesAreErrorsNamingFileAndLine) {
  std::string e = error_of([&] { detail::pod_to_text("=pod\n\nfirst\n\nA C<never closed\nparagraph.\n", "x.pod"); });
  EXPECT_NE(e.find("x.pod:5: formatting code C<...> is not closed"), std::string::npos) << e;
  e = error_of([&] { detail::pod_to_text("=head1 A E<bogus> name\n", "y.pod"); });
  EXPECT_NE(e.find("y.pod:1: unknown escape E<bogus>"), std::string::npos) << e;
  // The doubled form ends at whitespace and as many brackets: one `>` inside is text.
  EXPECT_EQ(detail::pod_to_text("=pod\n\nC<<  a->b  >> done\n", "z.pod"), "a->b done");
}

TEST(PerlDocsCorpus, OnePerFileWithoutTheListings) {
  TempDir t;
  write_file_atomic(t / "perlretut.pod", kPod);
  write_file_atomic(t / "perlfaq1.pod", "=head1 NAME\n\nperlfaq1 - General Questions About Perl\n");
  write_file_atomic(t / "perltoc.pod", "=head1 NAME\n\nperltoc - perl documentation table of contents\n");
  write_file_atomic(t / "perluniprops.pod", "=head1 NAME\n\nperluniprops - Index of Unicode Version properties\n");
  write_file_atomic(t / "README", "not POD");
  CorpusPaths p;
  p.perl_docs_dir = t.path();
  const Corpus c = load_corpus("perl-docs", p);
  EXPECT_EQ(c.name, "perl-docs");
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].id, "perlfaq1");
  EXPECT_EQ(c.docs[0].text, "NAME\n\nperlfaq1 - General Questions About Perl");
  EXPECT_EQ(c.docs[1].id, "perlretut");
  EXPECT_EQ(c.docs[1].text.find("It matches"), std::string::npos);  // verbatim code

  write_file_atomic(t / "perlbad.pod", "=pod\n\nAn I<open code\n");
  std::string e = error_of([&] { load_corpus("perl-docs", p); });
  EXPECT_NE(e.find(t / "perlbad.pod:3"), std::string::npos) << e;
  write_file_atomic(t / "perlbad.pod", std::string("=pod\n\n\x00\xff\x10", 9));
  e = error_of([&] { load_corpus("perl-docs", p); });
  EXPECT_NE(e.find(t / "perlbad.pod"), std::string::npos) << e;
  p.perl_docs_dir = t / "nowhere";
  EXPECT_NE(error_of([&] { load_corpus("perl-docs", p); }).find("perl-doc"), std::string::npos);
}

// The package itself, where scripts/setup.sh --corpus perl-docs installed it.
TEST(PerlDocsCorpus, RealFilesWhereInstalled) {
  const CorpusPaths p;
  if (!file_exists(p.perl_docs_dir + "/perlretut.pod"))
    GTEST_SKIP() << "perl-doc not installed; scripts/setup.sh --corpus perl-docs installs it";
  const Corpus c = load_corpus("perl-docs", p);
  EXPECT_GT(c.docs.size(), 200u);
  bool seen = false;
  for (const auto& d : c.docs) {
    if (d.id != "perlretut") continue;
    seen = true;
    EXPECT_EQ(d.text.rfind("NAME\n\nperlretut - Perl regular expressions tutorial\n\nDESCRIPTION\n\n", 0), 0u);
    EXPECT_EQ(d.text.find("X<"), std::string::npos);
  }
  EXPECT_TRUE(seen);
}
