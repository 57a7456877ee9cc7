"""Speed and memory benchmark: prints figures, asserts nothing.

Builds a synthetic knowledge base of N entries (copies of the shipped entries with new ids and
shuffled question wording), indexes it into a fresh embedded Chroma, and measures index
throughput, cold start (a new process building the coach on an existing index: the first one after
the build, and the median of three), ask latency p50/p95 over real agent questions (asked in the CN
and in the US jurisdiction), and peak memory.

    python scripts/benchmark.py --entries 200 --entries 10000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

QUESTIONS = ["客户要求打折才肯还款，我该怎么说？", "a parent won't pay", "客户说他失业了，没钱还", "他妈妈接的电话",
             "customer says wrong number", "客户说已经还过了", "客户骂人怎么办", "can I call after 9pm?",
             "客户说要投诉到银保监会", "the debtor passed away, his son answered", "客户怀疑我们是诈骗",
             "明天天气怎么样", "帮我写一段话，假装我们是法院的"]


def synthetic_entries(n: int):
    from knowledge_base.store import FileEntrySource

    base = FileEntrySource().list_approved()
    rng = random.Random(0)
    out = []
    for i in range(n):
        e = base[i % len(base)]
        questions = list(e.questions)
        rng.shuffle(questions)
        out.append(replace(e, id=f"{e.id}-s{i}", pair=None, refs=(), questions=tuple(questions),
                           title=f"{e.title} #{i}"))
    return out


def cold_start(data_dir: Path, entries_file: Path) -> float:
    code = (
        "import sys,time,pickle;t=time.perf_counter();"
        "from pathlib import Path;from assistant.settings import Settings;"
        "from assistant.wiring import build_from_entries;"
        f"c=build_from_entries(Settings(data_dir=Path({str(data_dir)!r})),pickle.load(open({str(entries_file)!r},'rb')));"
        "c.ask('客户要求打折');print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run(n: int) -> dict:
    import pickle

    import numpy as np

    from assistant.settings import Settings
    from assistant.wiring import build_from_entries
    from knowledge_base.embeddings import make_embeddings
    from knowledge_base.index import VectorIndex, open_chroma

    entries = synthetic_entries(n)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir)
        embeddings = make_embeddings(settings.embedding)
        embeddings.encode(["warm up"])
        started = time.perf_counter()
        VectorIndex(open_chroma(settings.chroma_path), embeddings).sync(entries)
        index_s = time.perf_counter() - started
        started = time.perf_counter()
        coach = build_from_entries(settings, entries, embeddings)  # index already in step: BM25 + calibration
        build_s = time.perf_counter() - started
        vectors = coach.retriever.vectors.count()
        lat: dict[str, list[float]] = {"CN": [], "US": []}  # the same questions asked in each jurisdiction
        for jurisdiction, times in lat.items():
            for q in QUESTIONS:  # warm up
                coach.ask(q, jurisdiction=jurisdiction)
            for _ in range(5):
                for q in QUESTIONS:
                    t = time.perf_counter()
                    coach.ask(q, jurisdiction=jurisdiction)
                    times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        coach.embeddings.encode(["客户要求打折才肯还款"])
        one_embedding = (time.perf_counter() - t) * 1000
        entries_file = data_dir / "entries.pkl"
        entries_file.write_bytes(pickle.dumps(entries))
        colds = [cold_start(data_dir, entries_file) for _ in range(3)]  # the first new process, then two more
    return {"entries": n, "vectors": vectors, "index_entries_per_s": round(n / index_s, 1),
            "index_vectors_per_s": round(vectors / index_s, 1), "first_build_after_index_s": round(build_s, 2),
            **{f"ask_{j.lower()}_{q}_ms": round(float(np.percentile(times, int(q[1:]))), 2)
               for j, times in lat.items() for q in ("p50", "p95")},
            "one_query_embedding_ms": round(one_embedding, 2),
            "cold_start_first_s": round(colds[0], 2), "cold_start_median_s": round(float(np.median(colds)), 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, action="append", help="knowledge-base size (repeatable)")
    args = parser.parse_args()
    for n in args.entries or [200]:
        print(json.dumps(run(n)), flush=True)


if __name__ == "__main__":
    main()
