"""Turn bench_training.py's JSON into the table and plot of benchmarks/README.md.

    python benchmarks/bench_training.py --json results.json
    python benchmarks/report.py results.json                                # the table
    python benchmarks/report.py results.json --plot benchmarks/speedups.png # and the plot
"""

import argparse
import json
import pathlib

TARGETS = {
    "W-large": "≥ 2.2× sklearn, ≥ 1.8× torch, ≥ 80 % of peak",
    "W-small": "≥ 6× sklearn per epoch, same accuracy",
    "W-predict-1": "≤ 3 µs",
    "W-predict-batch": "≥ 1.2× sklearn, ≥ 85 % of peak (hold)",
    "W-reg": "≥ 5× sklearn, same R²",
    "W-f64": "≥ 2× sklearn, ≥ 80 % of the float64 GEMM peak",
}


def table(results):
    lines = ["| workload | bpcore | scikit-learn (ratio) | torch (ratio) | bpcore GFLOPS (% of peak) | quality | target |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        t = r["times"]
        unit = r["unit"]
        ours = f"{t['bpcore'] * 1e6:.1f} µs/call" if unit == "s/call" else f"{t['bpcore']:.4g} {unit}"
        cells = []
        for peer in ("scikit-learn", "torch"):
            if peer in t:
                value = f"{t[peer] * 1e6:.0f} µs" if unit == "s/call" else f"{t[peer]:.4g}"
                cells.append(f"{value} ({t[peer] / t['bpcore']:.2f}×)")
            else:
                cells.append("–")
        gflops = f"{r['gflops']:.0f} ({100 * r['peak_fraction']:.0f} %)" if "gflops" in r else "–"
        if "peak64_fraction" in r:
            gflops = (f"{r['gflops']:.0f} ({100 * r['peak_fraction']:.0f} % of the float32 peak, "
                      f"{100 * r['peak64_fraction']:.0f} % of float64's)")
        quality = ""
        for key in ("accuracy", "r2"):
            if key in r:
                quality = f"{key} " + " / ".join(f"{v:.4f}" for v in r[key].values())
        lines.append(f"| {r['workload']} | {ours} | {cells[0]} | {cells[1]} | {gflops} | {quality} | "
                     f"{TARGETS.get(r['workload'], '')} |")
    peak = results[0].get("peak_gflops")
    if peak:
        lines.append(f"\nGEMM peak measured in the same run: {peak:.0f} GFLOPS (numpy float32 2048²).")
    return "\n".join(lines)


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["workload"] for r in results]
    figure, ax = plt.subplots(figsize=(8, 3.5))
    width = 0.38
    for k, peer in enumerate(("scikit-learn", "torch")):
        ratios = [r["times"][peer] / r["times"]["bpcore"] if peer in r["times"] else 0 for r in results]
        ax.bar([i + (k - 0.5) * width for i in range(len(names))], ratios, width, label=f"vs {peer}")
    ax.axhline(1, color="k", lw=0.8)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("speed-up of bpcore (×)")
    ax.set_yscale("log")
    ax.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=80)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", help="the JSON file bench_training.py --json wrote")
    parser.add_argument("--plot", metavar="PATH",
                        help="also draw the speed-ups into PATH (needs matplotlib)")
    args = parser.parse_args()
    results = json.loads(pathlib.Path(args.results).read_text())
    print(table(results))
    if args.plot:
        plot(results, args.plot)
        print(f"wrote {args.plot}")
