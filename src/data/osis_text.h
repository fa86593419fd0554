// Text of one SWORD module entry in OSIS markup (what `diatheke -f internal` prints): the words,
// without tags, Strong's numbers or footnotes. Private to src/data.
#pragma once
#include <string>

namespace structlm::data::detail {

// Tags go and their text stays (w, hi, q, reference, seg, ...), attributes and all (Strong's
// numbers and morphology live in attributes of <w>). Notes and speaker labels go with their text;
// the module often glues the words on either side of a note (`God</w><note/><w>created`), so a
// dropped note becomes a space when a word, a digit or an opening quote or bracket follows it,
// and nothing before closing punctuation (`, . ; : ! ? ) ] ” ’ …`). Entities are decoded, runs of
// whitespace become one space. With `paragraphs`, block elements break the text: title, div
// (OSIS paragraph milestones), p, lg, list, table and chapter start a paragraph (a blank line),
// l, lb, item and row a line, cell a space; without it every break is a space (one verse, one
// line). Markup that is cut short (a tag or a note never closed) is an error naming `where`.
std::string osis_to_text(const std::string& markup, bool paragraphs, const std::string& where);

}  // namespace structlm::data::detail
