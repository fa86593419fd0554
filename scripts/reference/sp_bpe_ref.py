#!/usr/bin/env python3
"""An independent reference for SentencePiece-style BPE with byte fallback in a Hugging Face
tokenizer.json (Llama 2, TinyLlama, Mistral v0.1), written from the model's description, not
from structlm's C++ (stdlib only: no `tokenizers`, no network). structlm's tests compare their
encoder with it (tests/text/sp_tokenizer_json_test.cpp).

What it implements, read from the file:
  normaliser   null, NFC, Prepend(s) (s + text unless the text is empty), Replace({"String": a} -> b),
               or a Sequence of those, in order;
  pre-tokenizer null, or Metaspace(replacement, prepend_scheme always|first|never, split): every
               " " becomes the replacement, the replacement goes in front unless the text starts
               with one (never: not at all), and with split the text is cut before every
               replacement character;
  model        BPE with byte_fallback: each character of a piece is a symbol when it is in the
               vocabulary, else its UTF-8 bytes as <0xXX> tokens; then, repeatedly, the adjacent
               pair with the lowest merge rank (leftmost on ties) is merged, until no pair has a
               merge. ignore_merges: a piece that is itself in the vocabulary is that token;
  decoder      Sequence[Replace(a -> b)..., ByteFallback, Fuse, Strip(c, start, 0)]: tokens with
               the replacements done, runs of byte tokens as UTF-8 (U+FFFD per byte when invalid),
               joined, then up to `start` leading c removed.
Special tokens in the text are ordinary text (as structlm does).

Usage:
  sp_bpe_ref.py learn --text FILE --merges N --out tokenizer.json [--style legacy|metaspace]
                [--prepend-scheme first|always|never] [--split] [--pairs] [--min-char-count K]
      learns a tiny vocabulary from FILE (UTF-8): specials <unk> <s> </s>, the 256 byte tokens,
      the characters seen at least K times, then N merges (most frequent pair inside words, words
      being what Metaspace's split cuts; ties by the pair's strings), and writes its tokenizer.json.
  sp_bpe_ref.py encode --tokenizer tokenizer.json --texts texts.json --out expected.json
      texts.json: a JSON array of strings; expected.json: [{"ids": [...], "decoded": "..."}].
"""
import argparse
import collections
import json
import sys
import unicodedata

SPACE = "\u2581"


# ---- reading the file ------------------------------------------------------------------------
class Tok:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        m = j["model"]
        assert m["type"] == "BPE" and m.get("byte_fallback") is True, "not a byte-fallback BPE"
        self.vocab = dict(m["vocab"])
        self.id_to_token = {}
        for t, i in self.vocab.items():
            self.id_to_token[i] = t
        for a in j.get("added_tokens", []):
            self.id_to_token.setdefault(a["id"], a["content"])
        self.rank = {}
        for r, mg in enumerate(m["merges"]):
            left, right = mg.split(" ") if isinstance(mg, str) else mg
            self.rank[(left, right)] = r  # a repeated pair keeps its last rank
        self.ignore_merges = bool(m.get("ignore_merges", False))
        self.norm = []
        n = j.get("normalizer")
        for step in ([] if n is None else n["normalizers"] if n["type"] == "Sequence" else [n]):
            if step["type"] == "NFC":
                self.norm.append(("nfc",))
            elif step["type"] == "Prepend":
                self.norm.append(("prepend", step["prepend"]))
            elif step["type"] == "Replace":
                self.norm.append(("replace", step["pattern"]["String"], step["content"]))
            else:
                raise SystemExit("normaliser %s not implemented" % step["type"])
        p = j.get("pre_tokenizer")
        self.meta = None
        if p is not None:
            assert p["type"] == "Metaspace"
            scheme = p.get("prepend_scheme") or "always"
            if p.get("add_prefix_space") is False:
                scheme = "never"
            self.meta = (p["replacement"], scheme, p.get("split", True) is not False)
        self.dec_replace, self.strip = [], ("", 0)
        for step in j["decoder"]["decoders"]:
            if step["type"] == "Replace":
                self.dec_replace.append((step["pattern"]["String"], step["content"]))
            elif step["type"] == "Strip":
                assert step["stop"] == 0
                self.strip = (step["content"], step["start"])
            else:
                assert step["type"] in ("ByteFallback", "Fuse"), step["type"]

    # ---- encoding ----------------------------------------------------------------------------
    def normalize(self, text):
        for step in self.norm:
            if step[0] == "nfc":
                text = unicodedata.normalize("NFC", text)
            elif step[0] == "prepend":
                text = step[1] + text if text else text
            else:
                text = text.replace(step[1], step[2])
        return text

    def pieces(self, text):
        if self.meta is None:
            return [text] if text else []
        r, scheme, split = self.meta
        text = text.replace(" ", r)
        if text and scheme != "never" and not text.startswith(r):
            text = r + text
        if not split:
            return [text] if text else []
        out = []
        for ch in text:  # a new piece before every replacement character
            if ch == r or not out:
                out.append(ch)
            else:
                out[-1] += ch
        return out

    def bpe(self, piece):
        if self.ignore_merges and piece in self.vocab:
            return [self.vocab[piece]]
        syms = []
        for ch in piece:
            if ch in self.vocab:
                syms.append(ch)
            else:
                syms.extend("<0x%02X>" % b for b in ch.encode("utf-8"))
        while True:
            best = None
            for i in range(len(syms) - 1):
                r = self.rank.get((syms[i], syms[i + 1]))
                if r is not None and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                break
            i = best[1]
            syms[i:i + 2] = [syms[i] + syms[i + 1]]
        return [self.vocab[s] for s in syms]

    def encode(self, text):
        if not text:
            return []
        ids = []
        for piece in self.pieces(self.normalize(text)):
            ids.extend(self.bpe(piece))
        return ids

    # ---- decoding ----------------------------------------------------------------------------
    def decode(self, ids):
        parts, pending = [], bytearray()
        for i in ids:
            t = self.id_to_token[i]
            for a, b in self.dec_replace:
                t = t.replace(a, b)
            if len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
                try:
                    pending.append(int(t[3:5], 16))
                    continue
                except ValueError:
                    pass
            if pending:
                parts.append(flush(pending))
                pending = bytearray()
            parts.append(t)
        if pending:
            parts.append(flush(pending))
        s = "".join(parts)
        c, start = self.strip
        k = 0
        while k < start and k < len(s) and s[k] == c:
            k += 1
        return s[k:]


def flush(b):
    try:
        return bytes(b).decode("utf-8")
    except UnicodeDecodeError:
        return "\ufffd" * len(b)


# ---- learning a tiny vocabulary --------------------------------------------------------------
def learn(text, n_merges, style, scheme, split, pairs, min_count):
    spaced = SPACE + text.replace(" ", SPACE)
    words = collections.Counter()
    cur = ""
    for ch in spaced:  # words begin at the space character
        if ch == SPACE and cur:
            words[cur] += 1
            cur = ""
        cur += ch
    if cur:
        words[cur] += 1
    chars = collections.Counter()
    for w, c in words.items():
        for ch in w:
            chars[ch] += c
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for ch, c in sorted(chars.items(), key=lambda kv: (-kv[1], kv[0])):
        if c >= min_count and ch not in vocab:
            vocab[ch] = len(vocab)
    # Words as symbol lists; a character left out of the vocabulary is a barrier (byte tokens
    # never merge here, as in SentencePiece).
    seqs = {w: [ch if ch in vocab else None for ch in w] for w in words}
    merges = []
    for _ in range(n_merges):
        counts = collections.Counter()
        for w, syms in seqs.items():
            for a, b in zip(syms, syms[1:]):
                if a is not None and b is not None:
                    counts[(a, b)] += words[w]
        if not counts:
            break
        (a, b), _ = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        merges.append((a, b))
        vocab.setdefault(a + b, len(vocab))
        for w, syms in seqs.items():
            out, i = [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            seqs[w] = out
    if style == "legacy":
        normalizer = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPACE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPACE}]}
        pre = None
    else:
        normalizer = None
        pre = {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": scheme, "split": split}
    decoders = [{"type": "Replace", "pattern": {"String": SPACE}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"}]
    if style == "legacy" or scheme != "never":
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t, i in (("<unk>", 0), ("<s>", 1), ("</s>", 2))]
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": normalizer, "pre_tokenizer": pre,
            "post_processor": {"type": "TemplateProcessing",
                               "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                          {"Sequence": {"id": "A", "type_id": 0}}],
                               "pair": [], "special_tokens": {}},
            "decoder": {"type": "Sequence", "decoders": decoders},
            "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                      "ignore_merges": False, "vocab": vocab,
                      "merges": [[a, b] if pairs else a + " " + b for a, b in merges]}}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("learn")
    lp.add_argument("--text", required=True)
    lp.add_argument("--merges", type=int, default=200)
    lp.add_argument("--out", required=True)
    lp.add_argument("--style", choices=["legacy", "metaspace"], default="legacy")
    lp.add_argument("--prepend-scheme", choices=["first", "always", "never"], default="first")
    lp.add_argument("--split", action="store_true")
    lp.add_argument("--pairs", action="store_true")
    lp.add_argument("--min-char-count", type=int, default=2)
    ep = sub.add_parser("encode")
    ep.add_argument("--tokenizer", required=True)
    ep.add_argument("--texts", required=True)
    ep.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "learn":
        with open(a.text, encoding="utf-8") as f:
            text = f.read()
        j = learn(text, a.merges, a.style, a.prepend_scheme, a.split, a.pairs, a.min_char_count)
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False, indent=1)
    else:
        tok = Tok(a.tokenizer)
        with open(a.texts, encoding="utf-8") as f:
            texts = json.load(f)
        out = []
        for t in texts:
            ids = tok.encode(t)
            out.append({"ids": ids, "decoded": tok.decode(ids)})
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
