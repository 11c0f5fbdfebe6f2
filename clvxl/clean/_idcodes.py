"""Text ids of a long log coded against one dictionary without one huge hash table.

Machinery for :mod:`clvxl.clean.log`: how ids are coded changes memory use, never the codes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clvxl._runtime.memory import release_memory

__all__ = ["IdCodes", "dictionary_encode"]


class IdCodes:
    """Text ids of many batches coded against one dictionary.

    A single hash table of every distinct id (Arrow's ``unify_dictionaries``) needs
    about 100 bytes per id: 1 GB for ten million order ids. Here each batch's distinct
    ids are spread over :attr:`BUCKETS` buckets by a hash of their bytes, and each
    bucket is encoded on its own, so no table ever holds more than a bucket's share.
    The codes are exact: equal ids always land in the same bucket.

    Between batches a row is kept as its bucket and its place among the bucket's ids
    (5 bytes); :meth:`finish` turns those into codes and writes the dictionary once,
    bucket by bucket, so neither is ever held twice.

    While every batch's ids are distinct (order ids, one per line), each batch and
    bucket tries :func:`dictionary_encode`'s fast path; after the first batch with a
    repeat (customer ids) the rest go straight to the hash table.
    """

    BUCKETS = 16

    def __init__(self, many: bool) -> None:
        self.many = many
        self.values: list[list[pa.Array]] = [[] for _ in range(self.BUCKETS)]
        self.sizes = np.zeros(self.BUCKETS, dtype=np.int64)
        self.rows: list[tuple[np.ndarray, np.ndarray]] = []
        self.whole: pa.DictionaryArray | None = None
        self.distinct = True  # no batch so far had an id twice

    def add(self, ids: pa.Array) -> None:
        """Code one batch's ids (a string array); unless ``many``, the only batch."""
        ids = ids.cast(pa.string())
        if not self.many:  # one batch: coded already
            if self.whole is not None:
                raise ValueError("ids of more than one batch need IdCodes(many=True)")
            self.whole = dictionary_encode(ids)
            return
        encoded = dictionary_encode(ids, self.distinct)
        self.distinct = self.distinct and len(encoded.dictionary) == len(ids)
        bucket = _buckets(encoded.dictionary, self.BUCKETS)
        local = np.empty(len(bucket), dtype=np.int32)
        for k in range(self.BUCKETS):
            members = np.flatnonzero(bucket == k)
            local[members] = np.arange(self.sizes[k], self.sizes[k] + len(members))
            self.sizes[k] += len(members)
            self.values[k].append(encoded.dictionary.take(pa.array(members)))
        indices = encoded.indices.to_numpy()
        self.rows.append((bucket[indices], local[indices]))

    def finish(self) -> pa.DictionaryArray:
        """Every batch's ids, in order, against one dictionary."""
        if not self.many:
            return self.whole  # set: clean_transactions codes every batch, even an empty one
        starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])  # of each bucket's ids
        code_of = np.empty(int(self.sizes.sum()), dtype=np.int32)  # bucket's id -> code
        dictionary = _StringsWriter(self.values)
        for k in range(self.BUCKETS):
            unique, indices = _unique(self.values[k], self.distinct)
            self.values[k] = []
            code_of[starts[k] : starts[k] + self.sizes[k]] = indices + dictionary.count
            dictionary.append(unique)
            del unique, indices
            release_memory()  # the bucket's ids, before the next bucket is written
        codes = np.empty(sum(len(local) for _, local in self.rows), dtype=np.int32)
        at = 0
        while self.rows:
            bucket, local = self.rows.pop(0)
            codes[at : at + len(local)] = code_of[starts[bucket] + local]
            at += len(local)
        return pa.DictionaryArray.from_arrays(pa.array(codes), dictionary.finish())


def dictionary_encode(ids: pa.Array, likely_distinct: bool = True) -> pa.DictionaryArray:
    """``pc.dictionary_encode(ids)`` (a string array), the same array; ``likely_distinct``
    False goes straight to Arrow's hash table.

    Ids that are all distinct (one order id per line, as most exports have) are their
    own dictionary, in order: telling that takes a sort of :func:`_fingerprints`
    (0.03 s for a million ids) instead of a hash table of the strings (0.26 s). Ids
    with a repeat next to each other (lines of one order) go straight to the table.
    """
    n = len(ids)
    if (
        likely_distinct
        and n > 1
        and ids.null_count == 0
        and not pc.any(pc.equal(ids[1:], ids[:-1])).as_py()
    ):
        prints = np.sort(_fingerprints(ids))
        if (prints[1:] != prints[:-1]).all():  # distinct fingerprints: distinct ids
            return pa.DictionaryArray.from_arrays(pa.array(np.arange(n, dtype=np.int32)), ids)
    return pc.dictionary_encode(ids)


def _unique(parts: list[pa.Array], distinct: bool) -> tuple[pa.Array, np.ndarray]:
    """The distinct strings of ``parts`` (one after the other), and the index of each;
    ``distinct``: the parts are likely distinct together too (worth the fast path)."""
    if len(parts) == 1:  # one batch's distinct ids: already distinct
        return parts[0], np.arange(len(parts[0]))
    strings = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
    encoded = dictionary_encode(strings, distinct)
    return encoded.dictionary, encoded.indices.to_numpy()


class _StringsWriter:
    """One string array written piece by piece into space reserved up front.

    ``pa.concat_arrays`` would need every piece and the result at once; here each
    piece can be let go of as soon as it is written. The space is an upper bound
    (``pieces``, every string that may be written); what is never written is never
    touched, so it costs address space, not memory. Text of 2 GiB or more becomes a
    ``large_string`` array (64-bit offsets).
    """

    LARGE = 2**31  # bytes of text that need 64-bit offsets

    def __init__(self, pieces: list[list[pa.Array]]) -> None:
        arrays = [a for bucket in pieces for a in bucket]
        size = sum(_text_bytes(a) for a in arrays)
        self.large = size >= self.LARGE
        self.offsets = np.zeros(
            sum(len(a) for a in arrays) + 1, dtype=np.int64 if self.large else np.int32
        )
        self.data = np.empty(size, dtype=np.uint8)
        self.count = 0

    def append(self, strings: pa.Array) -> None:
        """Add ``strings`` (a string array without nulls) at the end."""
        n, size = len(strings), _text_bytes(strings)
        offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)[
            strings.offset : strings.offset + n + 1
        ]
        end = self.offsets[self.count]
        self.offsets[self.count + 1 : self.count + n + 1] = offsets[1:] - offsets[0] + end
        if size:
            data = np.frombuffer(strings.buffers()[2], dtype=np.uint8)
            self.data[end : end + size] = data[offsets[0] : offsets[-1]]
        self.count += n

    def finish(self) -> pa.Array:
        """The strings written, without a copy."""
        offsets = self.offsets[: self.count + 1]
        data = self.data[: offsets[-1]]
        kind = pa.LargeStringArray if self.large else pa.StringArray
        return kind.from_buffers(self.count, pa.py_buffer(offsets), pa.py_buffer(data))


def _text_bytes(strings: pa.Array) -> int:
    """How many bytes of text a string array holds."""
    offsets = strings.buffers()[1]
    if offsets is None or len(strings) == 0:
        return 0
    first, last = np.frombuffer(offsets, dtype=np.int32)[
        [strings.offset, strings.offset + len(strings)]
    ]
    return int(last - first)


def _buckets(strings: pa.Array, buckets: int) -> np.ndarray:
    """A bucket in ``range(buckets)`` for each string, from its :func:`_fingerprints`."""
    return ((_fingerprints(strings) >> np.uint64(40)) % np.uint64(buckets)).astype(np.int8)


def _fingerprints(strings: pa.Array) -> np.ndarray:
    """A 64-bit hash of each string (a string array without nulls): equal strings, equal
    fingerprints.

    The hash mixes the length with the first and the last eight bytes (all of a short
    id), each read as one 64-bit number, multiplied by large odd constants (Fibonacci
    hashing); ids that share all of those share a fingerprint, which costs balance (or a
    fast path), never exactness.
    """
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)[
        strings.offset : strings.offset + len(strings) + 1
    ]
    first, last = int(offsets[0]), int(offsets[-1])
    # The text with eight zero bytes on each side, so that every 8-byte word exists;
    # ``words[i]`` is the (unaligned) little-endian word at byte i.
    padded = np.zeros(last - first + 16, dtype=np.uint8)
    if last > first:
        padded[8:-8] = np.frombuffer(strings.buffers()[2], dtype=np.uint8)[first:last]
    words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    starts, ends = offsets[:-1] - first, offsets[1:] - first
    length = np.minimum(ends - starts, 8)
    # Bytes past a short id's end (in its head) or before its start (in its tail) are
    # another id's: masked off. Little-endian: the head's own bytes are the low ones.
    key = words[starts + 8]  # the head, a new array
    key &= _LOW_BYTES[length]
    key *= np.uint64(0x9E3779B97F4A7C15)
    tail = words[ends]
    tail &= ~_LOW_BYTES[8 - length]
    tail *= np.uint64(0xC2B2AE3D27D4EB4F)
    key ^= tail
    del tail
    key ^= (ends - starts).astype(np.uint64) * np.uint64(0x165667B19E3779F9)
    key *= np.uint64(0x9E3779B97F4A7C15)
    return key


#: The low k bytes of a 64-bit number set, k = 0 ... 8.
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
