"""jieba's precise mode with its HMM for unknown words, written again for speed: the same
tokens as ``jieba.Tokenizer.cut(text, HMM=True)``, in about half the time.

Segmenting is most of what a reindex spends (about half of a worker's CPU time), and jieba's
code pays for generality we do not use: a DAG built as a dict of lists before the route is
worked out, ``log`` taken for every candidate word of every position, a Viterbi decoder over
dicts of states copying a path per state and character. Here the route is found in one pass
from the end (the best word from each position, ties to the longer word, as jieba's ``max``
over ``(score, end)`` breaks them), each word's log probability worked out once per process,
and the HMM's four states unrolled with back-pointers (ties as jieba's ``max`` over
``(probability, state)``). The arithmetic is jieba's, operation for operation, so the scores
and so the tokens are identical; ``tests/test_analysis.py`` holds that on the corpora.

:func:`segmenter` is the one entry: :meth:`search.lexicon.Lexicon.cut` uses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from math import log

from jieba import finalseg

__all__ = ["segmenter"]

# jieba's own patterns (jieba/__init__.py re_han_default, re_skip_default; finalseg re_han,
# re_skip)
_BLOCK_RE = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
_SKIP_RE = re.compile("(\r\n|\\s)", re.U)
_HMM_HAN_RE = re.compile("([\u4E00-\u9FD5]+)")
_HMM_SKIP_RE = re.compile("([a-zA-Z0-9]+(?:\\.\\d+)?%?)")

_PREFIX = object()  # the prefix of a word, not a word itself (count 0)
#: The per-process memo of words' log probabilities is cleared past this many entries (about
#: 40 MB; 20,000 paragraphs of releases use 47,000).
_MEMO_MAX = 300_000


def segmenter(freq: dict[str, int], total: int) -> Callable[[str], list[str]]:
    """A function giving jieba's precise-mode tokens (HMM on) of a text, for the prefix
    dictionary ``freq`` (word or prefix -> count, 0 for a prefix) of ``total`` counts: a
    tokenizer's ``FREQ`` and ``total`` once it is initialized and its user words added (the
    words' log probabilities are kept: a word added later needs a new segmenter)."""
    logtotal = log(total)
    memo: dict[str, object] = {}
    hmm = _hmm_cut()

    def unknown(buf: str, out: list[str]) -> None:
        # jieba's __cut_DAG on a run of single characters
        if len(buf) == 1:
            out.append(buf)
        elif not freq.get(buf):
            # words a user dictionary gave a count of 0 are split by jieba's HMM, for every
            # tokenizer of the process (a set of its module): then its own code
            out.extend(finalseg.cut(buf) if finalseg.Force_Split_Words else hmm(buf))
        else:
            out.extend(buf)

    def block(s: str, out: list[str]) -> None:
        n = len(s)
        score = [0.0] * (n + 1)
        nxt = list(range(n + 1))
        if len(memo) > _MEMO_MAX:
            memo.clear()
        for k in range(n - 1, -1, -1):
            best = None
            end = k
            i = k
            frag = s[k]
            while True:
                lp = memo.get(frag)
                if lp is None:
                    f = freq.get(frag)
                    if f is None:  # no longer word starts so (not kept: fragments are many)
                        break
                    lp = memo[frag] = (log(f) - logtotal) if f else _PREFIX
                if lp is not _PREFIX:
                    sc = lp + score[i + 1]
                    if best is None or sc >= best:
                        best, end = sc, i
                i += 1
                if i >= n:
                    break
                frag = s[k:i + 1]
            if best is None:  # no word starts here: the character alone, counted once
                best = (log(freq.get(s[k]) or 1) - logtotal) + score[k + 1]
            score[k] = best
            nxt[k] = end
        x = 0
        buf = ""
        while x < n:
            y = nxt[x] + 1
            if y - x == 1:
                buf += s[x]
            else:
                if buf:
                    unknown(buf, out)
                    buf = ""
                out.append(s[x:y])
            x = y
        if buf:
            unknown(buf, out)

    def cut(text: str) -> list[str]:
        out: list[str] = []
        for blk in _BLOCK_RE.split(text):
            if not blk:
                continue
            if _BLOCK_RE.match(blk):
                block(blk, out)
            else:
                for x in _SKIP_RE.split(blk):
                    if _SKIP_RE.match(x):
                        out.append(x)
                    else:
                        out.extend(x)
        return out

    return cut


def _hmm_cut() -> Callable[[str], list[str]]:
    """jieba's ``finalseg.cut`` while ``finalseg.Force_Split_Words`` is empty: its HMM
    (B, M, E, S) over runs of ideographs."""
    low = finalseg.MIN_FLOAT
    start, trans, emit = finalseg.start_P, finalseg.trans_P, finalseg.emit_P
    s_b, s_m, s_e, s_s = start["B"], start["M"], start["E"], start["S"]
    t_eb, t_sb = trans["E"]["B"], trans["S"]["B"]
    t_mm, t_bm = trans["M"]["M"], trans["B"]["M"]
    t_ss, t_es = trans["S"]["S"], trans["E"]["S"]
    t_be, t_me = trans["B"]["E"], trans["M"]["E"]
    e_b, e_m, e_e, e_s = emit["B"].get, emit["M"].get, emit["E"].get, emit["S"].get

    def states(obs: str) -> list[str]:
        c = obs[0]
        v_b, v_m = s_b + e_b(c, low), s_m + e_m(c, low)
        v_e, v_s = s_e + e_e(c, low), s_s + e_s(c, low)
        back = []
        for c in obs[1:]:
            em_b, em_m, em_e, em_s = e_b(c, low), e_m(c, low), e_e(c, low), e_s(c, low)
            # each state from its two possible states before; on a tie the later letter wins
            # (jieba's max over (probability, state))
            a, b = v_e + t_eb + em_b, v_s + t_sb + em_b
            n_b, p_b = (a, "E") if a > b else (b, "S")
            a, b = v_m + t_mm + em_m, v_b + t_bm + em_m
            n_m, p_m = (a, "M") if a >= b else (b, "B")
            a, b = v_s + t_ss + em_s, v_e + t_es + em_s
            n_s, p_s = (a, "S") if a >= b else (b, "E")
            a, b = v_b + t_be + em_e, v_m + t_me + em_e
            n_e, p_e = (a, "B") if a > b else (b, "M")
            back.append((p_b, p_m, p_e, p_s))
            v_b, v_m, v_e, v_s = n_b, n_m, n_e, n_s
        state = "E" if v_e > v_s else "S"
        path = [state]
        for p_b, p_m, p_e, p_s in reversed(back):
            state = p_b if state == "B" else p_m if state == "M" else p_e if state == "E" else p_s
            path.append(state)
        path.reverse()
        return path

    def han(s: str, out: list[str]) -> None:
        begin = nexti = 0
        for i, pos in enumerate(states(s)):
            if pos == "B":
                begin = i
            elif pos == "E":
                out.append(s[begin:i + 1])
                nexti = i + 1
            elif pos == "S":
                out.append(s[i])
                nexti = i + 1
        if nexti < len(s):
            out.append(s[nexti:])

    def cut(text: str) -> list[str]:
        out: list[str] = []
        for blk in _HMM_HAN_RE.split(text):
            if _HMM_HAN_RE.match(blk):
                han(blk, out)
            else:
                out.extend(x for x in _HMM_SKIP_RE.split(blk) if x)
        return out

    return cut
