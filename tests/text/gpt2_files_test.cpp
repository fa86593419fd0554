// encoder.json / vocab.bpe: GPT-2's own files survive a load/save cycle, and every kind of
// malformed file is an Error that names the file and the bad entry or line.
#include <gtest/gtest.h>

#include "core/io.h"
#include "core/json.h"
#include "text_test_support.h"

namespace structlm::text {
namespace {

TEST(Gpt2Files, SaveWritesGpt2sOwnFilesBack) {
  const testing::ScratchDir scratch("gpt2_save");
  const std::string& dir = scratch.path();
  testing::gpt2().save(dir);
  EXPECT_EQ(read_file(dir + "/vocab.bpe"), read_file(testing::gpt2_dir() + "/vocab.bpe"));
  EXPECT_EQ(load_json(dir + "/encoder.json"), load_json(testing::gpt2_dir() + "/encoder.json"));
  Tokenizer again = Tokenizer::load(dir);
  const std::string text = "Saved and loaded: it's the same tokenizer, 100%.";
  EXPECT_EQ(again.encode(text), testing::gpt2().encode(text));
}

// A small valid pair of files, written by save(), for the tests below to break.
class BadFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_.path();
    BpeTrainOptions o;
    o.vocab_size = 300;
    o.verbose = false;
    Tokenizer::train({"abab abab abab cd"}, o).save(dir_);
    encoder_ = load_json(dir_ + "/encoder.json");
    merges_ = read_file(dir_ + "/vocab.bpe");
  }
  // Loads with the given file contents and returns the error message ("" if it loaded).
  std::string load_error(const std::string& encoder_text, const std::string& merges_text) {
    write_file_atomic(dir_ + "/encoder.json", encoder_text);
    write_file_atomic(dir_ + "/vocab.bpe", merges_text);
    try {
      Tokenizer::load(dir_);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  std::string encoder_error(const json& encoder) { return load_error(encoder.dump(), merges_); }
  std::string merges_error(const std::string& merges) { return load_error(encoder_.dump(), merges); }

  std::string enc_path() const { return dir_ + "/encoder.json"; }
  std::string bpe_path() const { return dir_ + "/vocab.bpe"; }

  const testing::ScratchDir scratch_{"bad_files"};
  std::string dir_;
  json encoder_;
  std::string merges_;
};

#define EXPECT_MESSAGE(message, file, words)                                       \
  do {                                                                             \
    const std::string m = (message);                                               \
    EXPECT_EQ(m.rfind((file) + ": ", 0), 0u) << "does not start with the file: " << m; \
    EXPECT_NE(m.find(words), std::string::npos) << m;                              \
  } while (0)

TEST_F(BadFiles, TheUnbrokenFilesLoad) { EXPECT_EQ(load_error(encoder_.dump(), merges_), ""); }

TEST_F(BadFiles, EncoderJson) {
  EXPECT_MESSAGE(load_error("{\"a\": 0,", merges_), enc_path(), "invalid JSON");
  EXPECT_MESSAGE(load_error("", merges_), enc_path(), "JSON");
  EXPECT_MESSAGE(encoder_error(json::array({1, 2})), enc_path(), "JSON object");
  EXPECT_MESSAGE(encoder_error(json::object()), enc_path(), "no tokens");

  json e = encoder_;
  e["ab"] = "256";
  EXPECT_MESSAGE(encoder_error(e), enc_path(), "entry \"ab\": the id must be");
  e = encoder_;
  e["ab"] = -1;
  EXPECT_MESSAGE(encoder_error(e), enc_path(), "entry \"ab\"");
  e = encoder_;
  e["ab"] = 1.5;
  EXPECT_MESSAGE(encoder_error(e), enc_path(), "entry \"ab\"");
  e = encoder_;
  e["ab"] = 4000000000u;  // never sizes anything by an id it reads
  EXPECT_MESSAGE(encoder_error(e), enc_path(), "id 4000000000 is out of range");
  e = encoder_;
  e["ab"] = 0;  // "!" has id 0 too
  EXPECT_MESSAGE(encoder_error(e), enc_path(), "is also the id of");
  e = encoder_;
  e["a b"] = e["ab"];  // a raw space is not in the byte alphabet (it is "Ġ")
  e.erase("ab");
  EXPECT_MESSAGE(encoder_error(e), enc_path(), "entry \"a b\": not a token string");
  e = encoder_;
  e["zz"] = e["<|endoftext|>"];
  e.erase("<|endoftext|>");
  EXPECT_MESSAGE(encoder_error(e), enc_path(), "no <|endoftext|> token");
  e = encoder_;
  e["zz"] = e["Ġ"];  // keep the ids dense, lose the space byte
  e.erase("Ġ");
  EXPECT_MESSAGE(encoder_error(e), enc_path(), "no token for byte 32");
}

TEST_F(BadFiles, VocabBpe) {
  EXPECT_MESSAGE(merges_error(""), bpe_path(), "empty file");
  EXPECT_MESSAGE(merges_error("#version: 0.3\na b\n"), bpe_path(), "line 1: expected \"#version: 0.2\"");
  EXPECT_MESSAGE(merges_error("a b\n"), bpe_path(), "line 1");
  EXPECT_MESSAGE(merges_error("#version: 0.2\na b\nab qq\n"), bpe_path(),
                 "line 3: unknown token \"qq\" (not in " + enc_path() + ")");
  EXPECT_MESSAGE(merges_error("#version: 0.2\na b\nab ab ab\n"), bpe_path(), "line 3: expected two");
  EXPECT_MESSAGE(merges_error("#version: 0.2\na b\n\nab ab\n"), bpe_path(), "line 3: expected two");
  EXPECT_MESSAGE(merges_error("#version: 0.2\na  b\n"), bpe_path(), "line 2");
  EXPECT_MESSAGE(merges_error("#version: 0.2\na b\r\n"), bpe_path(), "line 2: unknown token");
  EXPECT_MESSAGE(merges_error("#version: 0.2\nc d\n"), bpe_path(),
                 "line 2: the merge makes \"cd\", which is not in");
  // Without a final newline the last line is still a merge.
  EXPECT_EQ(merges_error("#version: 0.2\na b\nab ab"), "");
}

TEST_F(BadFiles, MissingFilesNameThemselves) {
  EXPECT_THROW(Tokenizer::load(dir_ + "/nowhere"), Error);
  try {
    Tokenizer::load_gpt2(dir_ + "/missing.json", bpe_path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir_ + "/missing.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace structlm::text
