"""MinHash on texts: the shingles, signatures and band keys behind near-duplicate grouping.

Pure computation, without the database or SQLAlchemy: the extraction workers compute each
article's signature (`storage.prepare.prepare_article`), and `storage.stories` stores signatures
and band keys and looks candidates up. Near-duplicate means: the Jaccard similarity of the two
texts' word-bigram sets (after `storage.text.normalize_text`) is at least `THRESHOLD`.

- each text gets a MinHash signature of `SLOTS` values (`signature`); two texts agree on a slot
  with probability equal to their similarity, so the share of equal slots estimates it
  (`estimate`);
- the signature is cut into `BANDS` bands of `ROWS` values; each band hashes to a key
  (`band_keys`), and texts sharing a key are the candidates a lookup compares.

Signatures (`articles.minhash`) and band keys (`story_bands`) are stored: any change to how they
are computed leaves the stored ones unmatched by new articles.
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import random
import struct

from storage.text import normalize_text

# Measured on tests/data/stories_pairs.jsonl (benchmarks/stories_speed.py --pairs): with word
# bigrams, edited republications score 0.49 (lead reworded + paragraph dropped + other page
# furniture + "(avec MAP)") to 0.99, and distinct stories at most 0.38 (two press releases
# sharing a closing paragraph nearly as long as their body). Trigrams and unigrams separate
# these two groups by less. 0.45 sits nearer the copies: a story wrongly hidden under another
# costs more than a story listed twice.
THRESHOLD = 0.45
SHINGLE_WORDS = 2

# 40 bands of 3 values: two texts at the threshold share a band (and are compared) with
# probability 1 - (1 - 0.45**3)**40 = 0.978, at 0.5 with 0.995, at 0.6 with 0.9999; unrelated
# texts of one language (bigram similarity about 0.02) only once in a few thousand pairs.
ROWS = 3
BANDS = 40
SLOTS = ROWS * BANDS
# Candidates whose signatures agree on fewer slots than this are dropped without reading their
# text: the estimate's standard deviation near the threshold is 0.045, so a pair at 0.45 falls
# under 0.25 less than once in 100,000.
PREFILTER = 0.25

_SIGNATURE = struct.Struct(f"<{SLOTS}I")
_BAND_BYTES = ROWS * 4
_VALUE_MASK = 0xFFFF_FFFF


def _probe_orders(seed: int = 20_261_123) -> tuple[tuple[int, ...], ...]:
    """For each slot, the fixed order in which an empty slot looks for a value to borrow."""
    rng = random.Random(seed)  # the signatures are stored: this seed must never change
    orders = []
    for slot in range(SLOTS):
        others = [other for other in range(SLOTS) if other != slot]
        rng.shuffle(others)
        orders.append(tuple(others))
    return tuple(orders)


_PROBES = _probe_orders()


def shingles(normalized: str) -> set[str]:
    """The word bigrams of a text already passed through `normalize_text`."""
    words = normalized.split()
    if len(words) < SHINGLE_WORDS:
        return {normalized} if normalized else set()
    return {f"{first} {second}" for first, second in itertools.pairwise(words)}


# A blake2b hasher with the signature's parameters and no data yet. Copying it and feeding it one
# bigram gives the same digest as `hashlib.blake2b(gram, digest_size=8)` while skipping the
# keyword parsing and parameter-block setup of a new hasher: a quarter less time per bigram.
_EMPTY_HASHER = hashlib.blake2b(digest_size=8)


def signature(normalized: str) -> bytes:
    """The MinHash signature of a normalised text: `SLOTS` 32-bit values, little-endian.

    One-permutation MinHash with optimal densification (Li, Owen and Zhang, NIPS 2012;
    Shrivastava, ICML 2017): each bigram is hashed once, the hash picks a slot, and each slot
    keeps its smallest value; an empty slot borrows the value of the first non-empty slot in a
    fixed random order. Two texts agree on a slot with probability equal to their Jaccard
    similarity, as with classic MinHash, for one hash per bigram instead of one per bigram and
    slot (0.5 ms instead of 20 ms for a 1,000-word article in pure Python).
    """
    grams = _encoded_shingles(normalized)
    if not grams:
        raise ValueError("a text without words has no signature")
    # Hashing is most of the time: a copied empty hasher per bigram (`_EMPTY_HASHER`), in a plain
    # loop (one hasher alive at a time is faster than a list of them fed through `map`).
    digests = []
    for gram in grams:
        hasher = _EMPTY_HASHER.copy()
        hasher.update(gram)
        digests.append(hasher.digest())
    minima: list[int | None] = [None] * SLOTS
    # The digests joined and unpacked at once: 0.1 ms less per article than one int each.
    for digest in struct.unpack(f"<{len(grams)}Q", b"".join(digests)):
        value, slot = divmod(digest, SLOTS)
        value &= _VALUE_MASK
        current = minima[slot]
        if current is None or value < current:
            minima[slot] = value
    if None in minima:  # long texts usually fill every slot: no pass over them then
        minima = [
            value if value is not None else _borrow(minima, slot)
            for slot, value in enumerate(minima)
        ]
    return _SIGNATURE.pack(*minima)


def _encoded_shingles(normalized: str) -> set[bytes]:
    """`shingles` encoded as UTF-8, built from the encoded words (the same bytes, faster).

    `normalize_text` leaves its words separated by single spaces and no other whitespace, so
    the encoded text splits on spaces into the same words as `shingles` takes.
    """
    encoded = normalized.encode("utf-8").split(b" ")
    if len(encoded) < SHINGLE_WORDS:
        return {encoded[0]} if normalized else set()
    return set(map(b" ".join, itertools.pairwise(encoded)))


def _borrow(minima: list[int | None], slot: int) -> int:
    for other in _PROBES[slot]:
        value = minima[other]
        if value is not None:
            return value
    raise AssertionError("unreachable: some slot holds a value")


def band_keys(packed: bytes) -> list[int]:
    """One signed 64-bit key per band of the signature (the band's number is hashed in)."""
    return [
        int.from_bytes(
            hashlib.blake2b(
                bytes([band]) + packed[band * _BAND_BYTES : (band + 1) * _BAND_BYTES],
                digest_size=8,
            ).digest(),
            "little",
            signed=True,
        )
        for band in range(BANDS)
    ]


def estimate(one: bytes, other: bytes) -> float:
    """The Jaccard similarity that two signatures estimate: the share of equal slots."""
    return agreement(unpack_signature(one), other)


def unpack_signature(packed: bytes) -> tuple[int, ...]:
    """The `SLOTS` values of a signature, unpacked once to compare it with many (`agreement`)."""
    values: tuple[int, ...] = _SIGNATURE.unpack(packed)
    return values


def agreement(mine: tuple[int, ...], other: bytes) -> float:
    """`estimate` with the first signature unpacked once (`unpack_signature`) for many others."""
    theirs: tuple[int, ...] = _SIGNATURE.unpack(other)
    agreeing: int = sum(map(operator.eq, mine, theirs))
    return agreeing / SLOTS


def similarity(one: set[str], other: set[str]) -> float:
    """The Jaccard similarity of two shingle sets."""
    if not one and not other:
        return 1.0
    return len(one & other) / len(one | other)


def is_near_duplicate(one: str, other: str) -> bool:
    """Whether two texts are near-duplicates: the rule a lookup applies to its candidates."""
    return similarity(shingles(normalize_text(one)), shingles(normalize_text(other))) >= THRESHOLD
