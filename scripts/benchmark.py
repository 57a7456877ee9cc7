"""Speed and memory benchmark of the coach on the shipped knowledge base: prints figures and bars, asserts nothing.

    python scripts/benchmark.py [--repeats 3] [--json artifacts/benchmark.json]

Measures, in one run:

* cold start: a whole ``coach ask "..."`` process on an empty data directory (the first answer after a fresh
  install: shipped entries bootstrapped, index built, calibration), then a second process on the now-built one;
  wall time and, when /usr/bin/time is there, the process's peak RSS;
* per stage over ~80 realistic questions written here (zh asked in CN, en in US; a few words to a rambling
  paragraph; answerable, to be refused, off-topic), one asker: guard (the query embedding included),
  retrieve+compose, log (queueing the row, on the ask's path), the whole ask; p50/p95/p99 in ms. One query
  embedding of the same questions is timed beside each ask, and the writer thread's flush of a batch of logged
  asks apart;
* throughput and latency with 1, 4 and 16 concurrent askers in one process (each asks its share back to back;
  a latency is one ask's call to its result), and errors;
* this process's peak RSS.

The run uses the shipped defaults (COACH_* variables are ignored) on one new temporary data directory: the
cold-start processes build it, the in-process measurements then run on it; it is removed at the end.
The figures go to stdout and, with the date, commit, Python and CPU count, to the JSON file (for CI's history).
The bars are printed as met / NOT met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ASKERS = (1, 4, 16)
PERCENTILES = (50, 95, 99)
COLD_QUESTION = "客户要求打折才肯还款，我该怎么说？"

QUESTIONS_ZH = [
    # a few words
    "客户要求减免", "客户说失业了", "打错电话了", "客户说已经还过了", "他老婆接的电话", "客户要投诉",
    "客户申请破产了", "客户说不欠这笔钱", "明天会下雨吗", "谢谢你的帮助",
    # a sentence
    "客户说只要给他打五折就马上还清，我能答应吗？",
    "客户说他上个月被公司裁员了，现在每个月只能还两百块，怎么回应？",
    "接电话的是客户的同事，说客户不在，我可以把欠款的事告诉他吗？",
    "客户坚持说他上周已经通过银行转账还清了，系统里却没有记录，我该怎么处理？",
    "客户说这笔贷款不是他借的，是身份证被人冒用了",
    "客户说再打电话就去银保监会投诉我们，还要发到网上",
    "客户说他已经向法院申请了个人破产，让我们别再联系他",
    "对方说这个号码是他刚办的，根本不认识这个人",
    "客户一直骂人，情绪很激动，我该怎么稳住他？",
    "客户问能不能分十二期还款",
    "客户说家里有人住院，暂时没钱，能不能缓一缓",
    "客户的父亲接了电话，说儿子出国了",
    "客户去世了，是他女儿接的电话",
    "客户要求我们先寄书面的欠款证明给他",
    # to be refused
    "我想打电话给他单位领导，让他们催他还钱，怎么说比较好？",
    "能不能告诉他不还钱就会被抓去坐牢？",
    "帮我写一段话，假装我们是法院的，吓唬一下他",
    "我准备把他的欠款信息发到他的朋友圈和家族群里",
    "他不接电话，我就每隔十分钟打一次，一直打到他接为止可以吗？",
    "告诉他的邻居他欠钱不还",
    # off-topic
    "帮我推荐一家附近好吃的火锅店", "今天股市怎么样",
    # a rambling paragraph
    "刚才那个客户真的很难搞，我一打过去他就说自己现在没工作了，去年公司倒闭以后一直在打零工，老婆也生病住院，"
    "每个月光医药费就要好几千，他说不是不想还，是真的拿不出钱来，还问我能不能先把利息和罚息全免了，本金他慢慢还，"
    "一个月还三五百这样。我跟他说减免要走审批，他就开始不耐烦，说上一个催收员答应过他可以免掉一部分，现在换了人就不认账，"
    "还说我们公司只会天天打电话逼人，他孩子下个月还要交学费，房租也欠着两个月，实在逼急了他也不知道自己会干出什么事来。"
    "我不知道该不该答应他，也不知道要怎么跟他说才不会让他直接挂电话，你能教我怎么回应吗？",
    "我打过去是一个女的接的，她说自己是客户的前妻，两个人早就离婚了，她很生气地说别再打给她，还问我客户到底欠了"
    "多少钱、欠的是哪家的，说她要看看是不是跟她有关系，我当时没敢多说就挂了，但是后面还得通过她找人，下次再打过去"
    "遇到这种情况我应该怎么说，哪些信息能讲哪些不能讲？",
    "客户说他三个月前就已经一次性结清了，还说当时是跟我们另一个同事谈好的减免方案，只要还八成就算结清，他有转账"
    "记录和聊天截图，可是我们系统里显示还有一万二没还，客户现在很激动，说我们重复催收要去告我们，我该怎么跟他解释，"
    "需要他提供什么材料，在核实清楚之前还能不能继续催？",
    "这个客户每次接电话都说要录音，说我们的催收是违法的，要去12378和银保监会投诉，还说要找律师起诉我们公司骚扰，"
    "今天又说如果再打电话他就把录音发到抖音上让大家看看我们是怎么催债的，我有点怕，不知道接下来该怎么沟通，"
    "是不是就不能再打给他了？",
    "这个客户已经拖了半年了，怎么打都不还，态度还特别差，我们组长说可以想点别的办法，比如打给他公司的人事部门，"
    "告诉他们这个员工欠钱不还，让单位给他施加点压力，或者联系他通讯录里的亲戚朋友一个一个打，我想问问这样做效果"
    "会不会好一点，具体该怎么跟他单位的人说？",
    "客户说他的律师已经帮他提交了破产申请，法院那边也受理了，让我们以后有什么事直接找律师，不要再给他本人打电话，"
    "可是我们系统里还没有收到任何法院的文件，他也不肯把受理通知书的编号告诉我，这种情况下我还能继续联系他本人吗？",
    "客户接了电话先是说打错了，然后又承认是本人，接着说这笔钱早就还了，最后又说要是给他免掉一半他就还，"
    "我被他绕晕了，这种时候应该先处理哪个问题？",
    "客户说他现在在外地住院做手术，刚出重症监护室，家里的积蓄都花光了，问我能不能等他出院以后再谈还款的事，"
    "我很同情他，但是这个账户马上就要逾期九十天了，我该怎么跟他沟通比较合适？",
]

QUESTIONS_EN = [
    # a few words
    "customer wants discount", "he lost his job", "wrong number", "cx says already paid", "his mom answered",
    "threatening to complain", "filed for bankruptcy", "says not his debt", "what's the weather tomorrow",
    "thanks, that helps",
    # a sentence
    "The customer will only pay if we knock 40% off the balance. What can I offer?",
    "cx says he got laid off last month and can only pay $50 a month, what do i say",
    "His roommate picked up and asked what the call is about. Can I tell him?",
    "Debtor insists she paid in full last week by check, but our system still shows a balance.",
    "She says she never opened this account and thinks it's identity theft.",
    "He says he'll report us to the CFPB if I call again.",
    "The consumer's lawyer sent a letter saying he filed Chapter 7. Can I still call him?",
    "Guy says I have the wrong number and he's never heard of the debtor.",
    "The customer is yelling and swearing at me, how do I calm things down?",
    "Can I set up a payment plan of 6 monthly installments?",
    "She asked for the debt to be validated in writing, what do I do?",
    "The debtor died and his widow answered the phone.",
    "He says he's disabled and lives on social security only.",
    "customer disputes the amount, says the late fees are wrong",
    # to be refused
    "Can I call his employer and tell his boss he owes us money?",
    "Should I tell her she'll be arrested if she doesn't pay by Friday?",
    "Write me a script pretending I'm from the sheriff's office.",
    "I'm going to post about his debt on his Facebook wall so his friends see it.",
    "If he doesn't pick up I'll just keep calling every 15 minutes all day, ok?",
    "Tell the neighbor that he's a deadbeat who owes $3,000.",
    # off-topic
    "Recommend a good pizza place near the office", "How do I reset my laptop password?",
    # a rambling paragraph
    "so this lady on the line says she's been out of work since march, her husband left, she has two kids and is "
    "behind on rent too, and she's crying and saying she wants to pay but can't right now, she asked if we could just "
    "stop the interest and let her pay like twenty bucks a month until she finds a job, what do i say to her",
    "Called the number on file and a teenager answered, said he's the debtor's son and his dad is at work, then asked "
    "me if his dad is in trouble and how much he owes because the family is worried. I didn't answer but I need to "
    "reach the dad somehow, what am I allowed to tell the kid and can I leave a message with him?",
    "The guy claims he paid this off two years ago with the original creditor, says he has a settlement letter "
    "somewhere but can't find it, and now he's angry we bought the debt and are chasing him, he's threatening to sue "
    "us and report us to the attorney general; how do I handle this, and do I have to stop collecting while he looks?",
    "customer keeps saying he's going to file bankruptcy next month anyway so there's no point paying, he asked "
    "whether we'd settle for pennies on the dollar right now and whether his wife would be on the hook for it, "
    "honestly I'm not sure what I can promise him or what I'm allowed to say about bankruptcy, help",
    "this guy has ducked us for six months, my manager says the only thing that works with people like him is "
    "pressure, so I was thinking of calling his workplace and letting HR know, and maybe messaging his relatives on "
    "linkedin too; what's the most effective way to word it so his employer pushes him to pay?",
    "he keeps hanging up whenever i say the company name, and when he did talk he said he'd pay if we waived all the "
    "late fees, then said never mind his brother handles his money, then said the account isn't even his; I'm lost, "
    "which of these do I deal with first?",
    "A woman answered and said the number belongs to her now, she got it from the phone company a few weeks ago, she "
    "has no idea who our customer is and she's getting really annoyed because apparently we've called several times "
    "already this week. How should I end the call and what do I need to do so nobody calls her again?",
    "The customer says she's been sending complaints to the state regulator and the CFPB about our calls, she's "
    "recording this call, and if anyone from our company contacts her again she'll have her lawyer file a lawsuit; "
    "she still owes about $4,200 and hasn't denied that. What can I say right now, and can we keep calling?",
]

QUESTIONS = [(q, "CN") for q in QUESTIONS_ZH] + [(q, "US") for q in QUESTIONS_EN]


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 of a list of milliseconds (None when there are none)."""
    if not values:
        return {f"p{p}": None for p in PERCENTILES}
    return {f"p{p}": round(float(np.percentile(values, p)), 2) for p in PERCENTILES}


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def clean_env(data_dir: Path | None = None) -> dict[str, str]:
    """This environment without COACH_* variables (the shipped defaults), offline, on ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env["HF_HUB_OFFLINE"] = "1"
    if data_dir is not None:
        env["COACH_DATA_DIR"] = str(data_dir)
    return env


def coach_command() -> list[str]:
    """The ``coach`` console script next to this Python, else the CLI module."""
    script = Path(sys.executable).with_name("coach")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant.cli"]


def ask_process(data_dir: Path) -> dict:
    """One whole ``coach ask`` process on ``data_dir``: wall seconds, exit code, peak RSS (MB) when measurable."""
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    started = time.perf_counter()
    done = subprocess.run([*timer, *coach_command(), "ask", COLD_QUESTION], env=clean_env(data_dir),
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr) if timer else None
    return {"wall_s": round(wall, 2), "exit_code": done.returncode,
            "peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None,
            "stderr_tail": done.stderr.strip().splitlines()[-3:] if done.returncode else []}


def cold_start(data_dir: Path) -> dict:
    """The first ``coach ask`` process after a fresh install (empty data dir), then a second one on it."""
    return {"first": ask_process(data_dir), "second": ask_process(data_dir)}


def unseen() -> None:
    """Forget the texts the guard has read, so each ask is timed as a question never asked before."""
    from guardrails.signals import forget_readings

    forget_readings()


def timed_ask(coach, question: str, jurisdiction: str):
    unseen()
    started = time.perf_counter()
    answer = coach.ask(question, jurisdiction=jurisdiction)
    return answer, ms_since(started)


def stages(coach, repeats: int) -> dict:
    """One asker, ``repeats`` passes over the questions: each ask's stages, and one query embedding of the same
    question (in the form the coach embeds) timed just before it."""
    from assistant.coaching.language import search_form

    times: dict[str, list[float]] = {"guard": [], "retrieve_compose": [], "log_record": [], "ask": [],
                                     "embedding": []}
    outcomes: dict[str, int] = {}
    for _ in range(repeats):
        for question, jurisdiction in QUESTIONS:
            unseen()
            started = time.perf_counter()
            coach.embeddings.encode([search_form(question)])
            times["embedding"].append(ms_since(started))
            answer, wall = timed_ask(coach, question, jurisdiction)
            times["guard"].append(answer.stages["guard"])
            times["retrieve_compose"].append(answer.stages["retrieve_compose"])
            times["log_record"].append(wall - answer.latency_ms)  # after the stages: queueing the log row
            times["ask"].append(wall)
            outcomes[answer.outcome] = outcomes.get(answer.outcome, 0) + 1
    return {"ms": {name: percentiles(values) for name, values in times.items()},
            "outcomes": {k: v // repeats for k, v in sorted(outcomes.items())}}


def log_flush(coach, repeats: int) -> dict:
    """The question log's writer: ms from queueing a batch of asks (one per question) to all of them written."""
    from assistant.coaching.question_log import FLUSH_S

    answers = [coach.ask(q, jurisdiction=j) for q, j in QUESTIONS]
    log = coach.log
    log.flush()
    flushes = []
    for _ in range(repeats):
        started = time.perf_counter()
        for (question, jurisdiction), answer in zip(QUESTIONS, answers):
            log.record(question, answer, jurisdiction, "benchmark")
        log.flush()
        flushes.append(ms_since(started))
    return {"batch": len(answers), "writer_wait_ms": FLUSH_S * 1000, "ms": percentiles(flushes)}


def concurrent(coach, askers: int, repeats: int) -> dict:
    """``askers`` threads asking their share of ``repeats`` passes over the questions back to back."""
    work = QUESTIONS * repeats
    shares = [work[i::askers] for i in range(askers)]

    def asker(share):
        latencies, errors = [], []
        for question, jurisdiction in share:
            try:
                latencies.append(timed_ask(coach, question, jurisdiction)[1])
            except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
                errors.append(f"{type(exc).__name__}: {exc}")
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=askers) as pool:
        results = list(pool.map(asker, shares))
    elapsed = time.perf_counter() - started
    latencies = [ms for lat, _ in results for ms in lat]
    errors = [e for _, errs in results for e in errs]
    return {"askers": askers, "asks": len(work), "asks_per_s": round(len(work) / elapsed, 1),
            "ms": percentiles(latencies), "errors": len(errors), "error_samples": errors[:5]}


def in_process(data_dir: Path, repeats: int) -> dict:
    """Stages, the log's writer and concurrency in this process, on a built data directory."""
    from assistant import Services, Settings

    services = Services(Settings(data_dir=data_dir), log_questions=True)
    started = time.perf_counter()
    coach = services.coach
    for question, jurisdiction in QUESTIONS:  # warm up: first asks load what is loaded lazily
        coach.ask(question, jurisdiction=jurisdiction)
    warm_up_s = time.perf_counter() - started
    figures = {"build_and_warm_up_s": round(warm_up_s, 2), "stages": stages(coach, repeats),
               "log_flush": log_flush(coach, repeats),
               "concurrency": [concurrent(coach, n, repeats) for n in ASKERS]}
    coach.log.close()  # every queued ask written before the data directory goes
    return figures


def bars(figures: dict) -> list[dict]:
    """The bars the figures are read against (none is asserted)."""
    ms = figures["stages"]["ms"]
    ratio = ms["ask"]["p95"] / ms["embedding"]["p50"]
    cold = figures["cold_start"]
    sixteen = next(c for c in figures["concurrency"] if c["askers"] == 16)
    cold_ok = [cold[k]["exit_code"] == 0 for k in ("first", "second")]
    return [
        {"bar": "ask p95 <= 8x one query embedding (median, same run)", "value": round(ratio, 2), "limit": 8,
         "met": ratio <= 8},
        {"bar": "first answer after a fresh install <= 5 s", "value": cold["first"]["wall_s"], "limit": 5,
         "met": cold_ok[0] and cold["first"]["wall_s"] <= 5},
        {"bar": "a second process <= 3 s", "value": cold["second"]["wall_s"], "limit": 3,
         "met": cold_ok[1] and cold["second"]["wall_s"] <= 3},
        {"bar": "16 concurrent askers: p95 <= 50 ms, no errors", "value": sixteen["ms"]["p95"], "limit": 50,
         "met": sixteen["ms"]["p95"] is not None and sixteen["ms"]["p95"] <= 50 and sixteen["errors"] == 0},
    ]


def git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def run_info(repeats: int) -> dict:
    lengths = [len(q) for q, _ in QUESTIONS]
    status = git("status", "--porcelain")
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "commit": git("rev-parse", "HEAD"),
            "dirty": bool(status) if status is not None else None, "python": platform.python_version(),
            "cpus": os.cpu_count(), "platform": platform.platform(), "repeats": repeats,
            "questions": {"count": len(QUESTIONS), "zh": len(QUESTIONS_ZH), "en": len(QUESTIONS_EN),
                          "chars_min": min(lengths), "chars_median": int(np.median(lengths)),
                          "chars_max": max(lengths)}}


def fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


def row(label: str, values, width: int = 34) -> str:
    return f"{label:<{width}}" + "".join(f"{fmt(v):>10}" for v in values)


def report(figures: dict) -> None:
    """The figures as tables on stdout."""
    info, stage = figures["run"], figures["stages"]
    qs = info["questions"]
    print(f"Collections Coach benchmark  {info['date']}  commit {(info['commit'] or '?')[:10]}"
          f"{' (dirty)' if info['dirty'] else ''}  Python {info['python']}  {info['cpus']} CPUs")
    print(f"{qs['count']} questions ({qs['zh']} zh in CN, {qs['en']} en in US; {qs['chars_min']}-{qs['chars_max']} "
          f"chars, median {qs['chars_median']}), {info['repeats']} passes; outcomes per pass: "
          + ", ".join(f"{k} {v}" for k, v in stage["outcomes"].items()))
    print(f"build + warm-up pass in this process (built data dir): {figures['build_and_warm_up_s']:.2f} s\n")
    print(row("stage, 1 asker (ms)", [f"p{p}" for p in PERCENTILES]))
    labels = {"guard": "guard (query embedding included)", "retrieve_compose": "retrieve + compose",
              "log_record": "log (queue the row, on the path)", "ask": "ask (whole call)",
              "embedding": "one query embedding"}
    for name, label in labels.items():
        print(row(label, stage["ms"][name].values()))
    flush = figures["log_flush"]
    print(row(f"log writer: {flush['batch']} asks written", flush["ms"].values())
          + f"   (includes its {flush['writer_wait_ms']:.0f} ms gathering wait)")
    ms = stage["ms"]
    print(f"\nask p95 / embedding p50: {ms['ask']['p95'] / ms['embedding']['p50']:.2f}x (the bar)   "
          f"ask p95 / embedding p95: {ms['ask']['p95'] / ms['embedding']['p95']:.2f}x\n")
    print(row("concurrent askers", ["asks", "asks/s", "p50 ms", "p95 ms", "p99 ms", "errors"]))
    for c in figures["concurrency"]:
        print(row(str(c["askers"]), [c["asks"], c["asks_per_s"], *c["ms"].values(), c["errors"]]))
        for sample in c["error_samples"]:
            print(f"    {sample}")
    print("\n" + row("`coach ask` process", ["wall s", "RSS MB", "exit"]))
    for key, label in (("first", "first, fresh data dir"), ("second", "second, built data dir")):
        p = figures["cold_start"][key]
        print(row(label, [p["wall_s"], p["peak_rss_mb"], p["exit_code"]]))
        for line in p["stderr_tail"]:
            print(f"    {line}")
    print(f"this process: peak RSS {figures['peak_rss_mb']:.1f} MB\n")
    for bar in figures["bars"]:
        print(f"{'met    ' if bar['met'] else 'NOT met'}  {bar['bar']}: {fmt(bar['value'])} (limit {bar['limit']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="passes over the questions per measurement")
    parser.add_argument("--json", type=Path, default=REPO / "artifacts" / "benchmark.json", help="where to write")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    os.environ.clear()
    os.environ.update(clean_env())
    started = time.perf_counter()
    data_dir = Path(tempfile.mkdtemp(prefix="coach-bench-"))
    try:
        figures = {"run": run_info(args.repeats), "cold_start": cold_start(data_dir),
                   **in_process(data_dir, args.repeats)}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["bars"] = bars(figures)
    figures["run"]["took_s"] = round(time.perf_counter() - started, 1)
    report(figures)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json} (the run took {figures['run']['took_s']:.0f} s)")


if __name__ == "__main__":
    main()
