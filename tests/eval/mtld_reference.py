#!/usr/bin/python3
"""Independent MTLD (McCarthy & Jarvis 2010) for the C++ tests: stdlib only, exact fractions.

Reads {"threshold": 0.72, "texts": ["...", ...]} on stdin and prints a JSON list with each
text's MTLD (forward and backward passes averaged), null where it is undefined (no factor).
Words: split on whitespace, punctuation stripped from both ends, lowercased (as the C++ side).
"""
import json
import string
import sys
from fractions import Fraction

EDGE_PUNCT = set(string.punctuation) | set("\u201c\u201d\u2018\u2019\u2013\u2014\u2026")


def tokenize(text):
    out = []
    for piece in text.split():  # Python's split also splits on Unicode spaces; the tests use ASCII
        while piece and piece[0] in EDGE_PUNCT:
            piece = piece[1:]
        while piece and piece[-1] in EDGE_PUNCT:
            piece = piece[:-1]
        if piece:
            out.append("".join(c.lower() if "A" <= c <= "Z" else c for c in piece))
    return out


def factors_one_way(words, threshold):
    """Number of factors: segments are cut where their type-token ratio first drops to the threshold."""
    factors = Fraction(0)
    start = 0
    for end in range(1, len(words) + 1):
        segment = words[start:end]
        if Fraction(len(set(segment)), len(segment)) <= threshold:
            factors += 1
            start = end
    rest = words[start:]
    if rest:
        factors += (1 - Fraction(len(set(rest)), len(rest))) / (1 - threshold)
    return factors


def mtld(words, threshold):
    forward = factors_one_way(words, threshold)
    backward = factors_one_way(words[::-1], threshold)
    if forward == 0 or backward == 0:
        return None
    return float((len(words) / forward + len(words) / backward) / 2)


def main():
    request = json.load(sys.stdin)
    threshold = Fraction(str(request["threshold"]))
    print(json.dumps([mtld(tokenize(t), threshold) for t in request["texts"]]))


if __name__ == "__main__":
    main()
