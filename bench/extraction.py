"""Body-extraction benchmark: our ``extract()`` beside bare trafilatura on the dev set.

Scores the 65 pages of ``/work/shared/devset`` (override with ``--devset``) with the
Scrapinghub article-extraction benchmark's metric (token 4-gram shingles as multisets;
precision averaged over pages with output, recall over all pages; F1 of the two means;
accuracy = share of pages whose token lists match exactly), then times ``extract()``
against ``trafilatura.bare_extraction(html, with_metadata=True)`` side by side, page by
page, in alternating order, over several repetitions, and prints the ratio.

Usage::

    .venv/bin/python bench/extraction.py [--repeat 5] [--devset DIR] [--worst 10]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from archiver.extract import extract  # noqa: E402

DEFAULT_DEVSET = Path(__file__).resolve().parents[2] / "shared" / "devset"
if not DEFAULT_DEVSET.exists():
    DEFAULT_DEVSET = Path("/work/shared/devset")

_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(toks: list[str], n: int = 4) -> Counter:
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def page_scores(truth: str, pred: str) -> tuple[float | None, float, bool]:
    """(precision or None when pred is empty, recall, exact token match) for one page."""
    t_tok, p_tok = tokens(truth), tokens(pred)
    t, p = shingles(t_tok), shingles(p_tok)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    precision = tp / (tp + fp) if p else None
    recall = tp / (tp + fn) if (tp + fn) else 1.0
    return precision, recall, t_tok == p_tok


def load_devset(root: Path) -> list[tuple[str, str, bytes, str]]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, item in sorted(truth.items()):
        body = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append((page_id, item.get("url") or "", body, item["articleBody"]))
    return pages


def ours(body: bytes, url: str) -> str:
    article = extract(body, url)
    return article.text if article else ""


def traf_default(body: bytes, url: str) -> str:
    return trafilatura.extract(body.decode("utf-8"), url=url) or ""


def traf_precision(body: bytes, url: str) -> str:
    return (
        trafilatura.extract(
            body.decode("utf-8"), url=url, include_comments=False, favor_precision=True
        )
        or ""
    )


SYSTEMS: dict[str, Callable[[bytes, str], str]] = {
    "archiver extract()": ours,
    "trafilatura defaults": traf_default,
    "trafilatura no-comments+precision": traf_precision,
}


def score(pages, func, repeat: int):
    precisions, recalls, exact, best_ms, per_page = [], [], 0, [], {}
    for page_id, url, body, truth in pages:
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            pred = func(body, url)
            runs.append(time.perf_counter() - start)
        best_ms.append(min(runs) * 1000)
        p, r, same = page_scores(truth, pred)
        if p is not None:
            precisions.append(p)
        recalls.append(r)
        exact += same
        per_page[page_id] = (p, r)
    precision = statistics.fmean(precisions) if precisions else 0.0
    recall = statistics.fmean(recalls)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "accuracy": exact / len(pages),
        "ms": statistics.fmean(best_ms),
        "pages": per_page,
    }


def time_ratio(pages, repeat: int) -> tuple[float, float, float]:
    """Total time of extract() and of bare_extraction(with_metadata=True), side by side.

    Each page is run by both in alternating order; per page the fastest of ``repeat``
    runs counts, which filters out the noise of a shared machine.
    """
    ours_total = theirs_total = 0.0
    for index, (_, url, body, _) in enumerate(pages):
        mine, theirs = [], []
        for rep in range(repeat):
            order = (0, 1) if (index + rep) % 2 == 0 else (1, 0)
            for which in order:
                start = time.perf_counter()
                if which == 0:
                    extract(body, url)
                    mine.append(time.perf_counter() - start)
                else:
                    trafilatura.bare_extraction(body, url=url, with_metadata=True)
                    theirs.append(time.perf_counter() - start)
        ours_total += min(mine)
        theirs_total += min(theirs)
    n = len(pages)
    return ours_total * 1000 / n, theirs_total * 1000 / n, ours_total / theirs_total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=DEFAULT_DEVSET)
    parser.add_argument("--repeat", type=int, default=5, help="timing repetitions")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages of ours")
    args = parser.parse_args(argv)

    pages = load_devset(args.devset)
    # Warm up imports and caches (htmldate, lxml parsers, regexes) before timing.
    for _, url, body, _ in pages[:3]:
        extract(body, url)
        trafilatura.bare_extraction(body, url=url, with_metadata=True)
    gc.collect()

    print(f"Body extraction on {len(pages)} pages of {args.devset} (repeat={args.repeat})")
    print()
    print(f"| {'extractor':<34} | {'F1':>6} | {'prec.':>6} | {'recall':>6} | {'acc.':>6} | {'ms/page':>7} |")
    print(f"|{'-' * 36}|{'-' * 8}|{'-' * 8}|{'-' * 8}|{'-' * 8}|{'-' * 9}|")
    results = {}
    for name, func in SYSTEMS.items():
        res = results[name] = score(pages, func, args.repeat)
        print(
            f"| {name:<34} | {res['f1']:6.3f} | {res['precision']:6.3f} | {res['recall']:6.3f}"
            f" | {res['accuracy']:6.3f} | {res['ms']:7.1f} |"
        )
    print()
    mine, theirs, ratio = time_ratio(pages, args.repeat)
    print("Time, best of %d runs per page, interleaved:" % args.repeat)
    print(f"| {'call':<58} | {'ms/page':>7} |")
    print(f"|{'-' * 60}|{'-' * 9}|")
    print(f"| {'archiver extract(body, url)':<58} | {mine:7.2f} |")
    print(f"| {'trafilatura.bare_extraction(body, url, with_metadata=True)':<58} | {theirs:7.2f} |")
    print(f"| {'ratio (budget 1.15)':<58} | {ratio:7.3f} |")

    if args.worst:
        print()
        ranked = sorted(
            results["archiver extract()"]["pages"].items(),
            key=lambda kv: min(kv[1][0] if kv[1][0] is not None else 0.0, kv[1][1]),
        )
        for page_id, (p, r) in ranked[: args.worst]:
            print(f"{page_id[:16]}  P={p if p is None else round(p, 3)}  R={r:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
