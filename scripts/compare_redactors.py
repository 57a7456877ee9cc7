"""Compare PII redactors on a labelled corpus: recall and false redaction per language and label, speed, start-up.

    python scripts/compare_redactors.py [--corpus /work/datasets/pii_dev.jsonl]

Runs from the project's own packages (jieba included). Extra, optional: presidio-analyzer==2.2.366 (pulls spaCy;
no trained spaCy pipeline is used: they cannot be installed offline, so it runs on blank pipelines) and Baidu's
lac (reported as not runnable when it does not import). Prints markdown tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.evaluation.redaction_metrics import PiiItem, load_pii_corpus, score_redaction  # noqa: E402

CORPUS = Path("/work/datasets/pii_dev.jsonl")
SETUP = {  # approach -> code that builds `redact` in a fresh interpreter (for the start-up time)
    "a rules": "from scripts.compare_redactors import rules_only as redact",
    "b' rules+names, no POS": "from scripts.compare_redactors import names_without_pos as redact",
    "b rules+names+jieba POS (chosen)": "from assistant.coaching.redaction import redact",
    "c presidio": "from scripts.compare_redactors import presidio_redactor; redact = presidio_redactor()",
    "d Baidu LAC": "from scripts.compare_redactors import lac_redactor; redact = lac_redactor()",
}


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for start, end in sorted(spans):
        if start >= at:
            out += [text[at:start], "[PII]"]
            at = end
    return "".join(out) + text[at:]


def rules_only(text: str) -> str:
    """(a) Formats, checksums and context words, no names."""
    from assistant.coaching.pii_identifiers import find_identifiers

    return _replace(text, [(f.start, f.end) for f in find_identifiers(text)])


def names_without_pos(text: str) -> str:
    """(b') The project's redactor with Chinese names from surnames and cue words only (no jieba)."""
    from assistant.coaching.redaction import find_pii

    return _replace(text, [(s.start, s.end) for s in find_pii(text, pos_tags=False)])


def presidio_redactor() -> Callable[[str], str]:
    """(c) Presidio's pattern recognisers (blank spaCy pipelines: no NER model) plus Chinese ones added here."""
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, EmailRecognizer, PhoneRecognizer

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())   # its bundled suffix list, no download

    class BlankSpacy(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en"), "zh": spacy.blank("zh")}

    def zh(entity: str, regex: str, score: float, context: tuple[str, ...] = ()) -> PatternRecognizer:
        return PatternRecognizer(supported_entity=entity, supported_language="zh", context=list(context),
                                 patterns=[Pattern(entity.lower(), regex, score)])

    registry = RecognizerRegistry(supported_languages=["en", "zh"])
    registry.load_predefined_recognizers(languages=["en"])
    for recognizer in (
        zh("CN_MOBILE", r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s.-]?\d){8}(?!\d)", 0.7),
        zh("CN_LANDLINE", r"(?<!\d)\(?0\d{2,3}\)?[\s-]?\d{3,4}[\s-]?\d{4}(?!\d)", 0.5),
        zh("CN_ID", r"(?<!\d)[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)",
           0.8),
        zh("QQ", r"(?<!\d)[1-9]\d{4,11}(?!\d)", 0.3, ("QQ", "扣扣")),
        zh("WECHAT", r"\b[A-Za-z][A-Za-z0-9_-]{5,19}\b", 0.3, ("微信", "vx")),
        zh("CN_PLATE", r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][·\s]?[A-Z0-9]{5,6}",
           0.7),
        EmailRecognizer(supported_language="zh"), CreditCardRecognizer(supported_language="zh"),
        PhoneRecognizer(supported_language="zh", supported_regions=("CN", "US")),
    ):
        registry.add_recognizer(recognizer)
    engine = BlankSpacy(models=[{"lang_code": lang, "model_name": "blank"} for lang in ("en", "zh")])
    engine.load()
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en", "zh"])
    skip = {"DATE_TIME", "URL", "NRP", "US_DRIVER_LICENSE"}   # dates and URLs are no personal data here

    def redact(text: str) -> str:
        lang = "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"
        found = analyzer.analyze(text, language=lang)
        return _replace(text, [(r.start, r.end) for r in found if r.entity_type not in skip])

    return redact


def lac_redactor() -> Callable[[str], str]:
    """(d) Baidu LAC: PER and LOC words, when the package imports and runs."""
    from LAC import LAC

    lac = LAC(mode="lac")

    def redact(text: str) -> str:
        words, tags = lac.run(text)
        spans, at = [], 0
        for word, tag in zip(words, tags):
            if tag in ("PER", "LOC"):
                spans.append((at, at + len(word)))
            at += len(word)
        return _replace(text, spans)

    return redact


def first_call_seconds(name: str) -> tuple[float | None, str]:
    """Import and first call in a fresh interpreter, or why that failed."""
    code = (f"import time; t = time.perf_counter(); {SETUP[name]}; "
            "redact('客户张伟的手机13812345678 Call Bob at 415-555-0123'); print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode:
        return None, (done.stderr.strip().splitlines() or ["failed"])[-1][:90]
    return float(done.stdout.strip().splitlines()[-1]), ""


def clean_items_changed(items: list[PiiItem], redact: Callable[[str], str]) -> float:
    """Share of items without personal data whose text was changed at all."""
    clean = [item for item in items if not item.pii]
    return sum(redact(item.text) != item.text for item in clean) / max(1, len(clean))


def measure(name: str, items: list[PiiItem]) -> dict:
    """Scores, speed and start-up of one approach."""
    startup, error = first_call_seconds(name)
    if error:
        return {"name": name, "error": error}
    scope: dict = {}
    exec(SETUP[name], scope)
    redact = scope["redact"]
    redact("warm-up 预热")
    t = time.perf_counter()
    scores = score_redaction(items, redact)
    ms = (time.perf_counter() - t) * 1000 / len(items)
    return {"name": name, "scores": scores, "ms": ms, "startup": startup, "changed": clean_items_changed(items, redact)}


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def print_tables(results: list[dict]) -> None:
    """The comparison as markdown tables."""
    langs = sorted({lg for r in results if "scores" in r for lg in r["scores"]["by_lang"]})
    head = "| approach | " + " | ".join(f"recall {lg} | false red. {lg}" for lg in langs)
    print(head + " | clean texts changed | ms/text | import+first call s |")
    print("|---" * (2 * len(langs) + 4) + "|")
    for r in results:
        if "error" in r:
            print(f"| {r['name']} | not runnable: {r['error']} |")
            continue
        by = r["scores"]["by_lang"]
        cells = " | ".join(f"{_f(by[lg]['recall'])} | {_f(by[lg]['false_redaction'])}" for lg in langs)
        print(f"| {r['name']} | {cells} | {_f(r['changed'])} | {r['ms']:.2f} | {r['startup']:.2f} |")
    ok = [r for r in results if "scores" in r]
    print("\n| recall by label (n) | " + " | ".join(r["name"] for r in ok) + " |")
    print("|---" * (len(ok) + 1) + "|")
    for label, row in ok[0]["scores"]["by_label"].items():
        cells = " | ".join(_f(r["scores"]["by_label"][label]["recall"]) for r in ok)
        print(f"| {label} ({row['n']}) | {cells} |")
    print("\n| false redaction by kept kind (n) | " + " | ".join(r["name"] for r in ok) + " |")
    print("|---" * (len(ok) + 1) + "|")
    for kind, row in ok[0]["scores"]["by_keep_kind"].items():
        cells = " | ".join(_f(r["scores"]["by_keep_kind"][kind]["false_redaction"]) for r in ok)
        print(f"| {kind} ({row['n']}) | {cells} |")


def main() -> None:
    """Measure every approach on the corpus and print the tables; --misses lists what the chosen one missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--misses", action="store_true", help="list the chosen approach's misses and false hits")
    args = parser.parse_args()
    items = load_pii_corpus(args.corpus)
    results = [measure(name, items) for name in SETUP]
    print(f"corpus: {args.corpus} ({len(items)} items)\n")
    print_tables(results)
    if args.misses:
        chosen = next(r for r in results if "chosen" in r["name"])["scores"]
        print(json.dumps({"misses": chosen["misses"], "false": chosen["false_redactions"]}, ensure_ascii=False,
                         indent=1))


if __name__ == "__main__":
    main()
