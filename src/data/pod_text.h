// Text of a POD document (Perl's Plain Old Documentation, perlpodspec) for a corpus: its prose,
// paragraph by paragraph. Private to src/data.
#pragma once
#include <string>

namespace structlm::data::detail {

// Paragraphs are separated by blank lines. Kept, one paragraph each, lines joined and runs of
// whitespace made one space: ordinary paragraphs, headings (=head1..=head4) and item labels
// (=item open FILEHANDLE,EXPR) but not bare bullets or numbers (=item *, =item 2.). Dropped:
// verbatim paragraphs (indented: code), =for paragraphs and =begin ... =end blocks (text for other
// formatters), and anything outside POD (before the first command, after =cut). Formatting codes:
// B, I, C, F, S keep their text; L keeps the link text (L<text|target>), else the page or
// `"section" in page` as pod2text writes it; E is the character (E<lt>, E<gt>, E<sol>,
// E<verbar>, HTML names, numbers); X (index entries) and Z go. Both the single form C<...> and the
// doubled one C<< ... >> are read. A formatting code left open is an error naming `name` and its
// line.
std::string pod_to_text(const std::string& pod, const std::string& name);

}  // namespace structlm::data::detail
