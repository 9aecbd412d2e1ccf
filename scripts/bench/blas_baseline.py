"""BLAS baseline for the benchmarks: numpy (OpenBLAS) timings of the same float32 matrices the
kernel benchmarks use. Line protocol on stdin/stdout, one JSON object per line:
  {"op": "load", "name": N, "path": P, "rows": R, "cols": C}  -> {"ok": true}
  {"op": "gemm", "a": N, "b": N, "transA": bool, "transB": bool}  -> {"ms": t}
  {"op": "topk", "q": N, "m": N, "k": K, "qRows": optional, "block": rows per product block}  -> {"ms": t, "indices": [[...]...]}
  {"op": "info"} -> numpy / BLAS configuration
Timings are wall-clock for one call (the caller repeats and takes medians)."""
import json
import sys
import time

import numpy as np

mats = {}


def topk(q, m, k):
    s = q @ m.T  # (qRows, n)
    k = min(k, s.shape[1])
    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(s, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(vals, order, axis=1)


def info():
    out = {"numpy": np.__version__}
    try:
        cfg = np.show_config(mode="dicts")
        out["blas"] = cfg.get("Build Dependencies", {}).get("blas", {})
        out["simd"] = cfg.get("SIMD Extensions", {})
    except Exception as e:  # older numpy
        out["error"] = str(e)
    out["coretype"] = openblas_corename()
    return out


def openblas_corename():
    """The OpenBLAS kernel actually selected at run time (DYNAMIC_ARCH builds pick per CPU)."""
    import ctypes

    with open("/proc/self/maps") as f:
        libs = {p for p in f.read().split() if "openblas" in p and ".so" in p}
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


for line in sys.stdin:
    cmd = json.loads(line)
    op = cmd["op"]
    if op == "load":
        a = np.fromfile(cmd["path"], dtype=np.float32, count=cmd["rows"] * cmd["cols"])
        mats[cmd["name"]] = a.reshape(cmd["rows"], cmd["cols"])
        res = {"ok": True}
    elif op == "gemm":
        a = mats[cmd["a"]]
        b = mats[cmd["b"]]
        a = a.T if cmd.get("transA") else a
        b = b.T if cmd.get("transB") else b
        t = time.perf_counter()
        c = a @ b
        res = {"ms": (time.perf_counter() - t) * 1000, "shape": list(c.shape)}
    elif op == "topk":
        q = mats[cmd["q"]]
        if cmd.get("qRows"):
            q = q[: cmd["qRows"]]
        block = cmd.get("block") or q.shape[0]
        t = time.perf_counter()
        parts = [topk(q[s : s + block], mats[cmd["m"]], cmd["k"])[0] for s in range(0, q.shape[0], block)]
        idx = np.concatenate(parts)
        res = {"ms": (time.perf_counter() - t) * 1000}
        if cmd.get("returnIndices"):
            res["indices"] = idx.tolist()
    elif op == "info":
        res = info()
    elif op == "free":
        mats.pop(cmd["name"], None)
        res = {"ok": True}
    else:
        res = {"error": "unknown op " + op}
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()
