"""The wrk load: a Lua script where every request is a new rating, and parsing of what wrk reports."""

import json
import re
import shutil
import subprocess
from pathlib import Path

WRK = "/usr/bin/wrk"
RESULT_PREFIX = "HAOCHA_RESULT "

# Each wrk thread rates its own slice of the pre-created cases, one case per request; 10 % are 差评 with a
# reason code. response() counts statuses and keeps the case number of every 201 (to check durability).
_LUA = r"""
local api_key = "__API_KEY__"
local case_count = __CASE_COUNT__
local thread_count = __THREADS__
local ack_path = "__ACK_PATH__"
local slice = math.floor(case_count / thread_count)
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  sent = 0
  statuses = {}
  acks = {}
  replayed = 0
  headers = {["Content-Type"] = "application/json", ["X-Api-Key"] = api_key}
end

local good = {"very_satisfied", "satisfied"}
local channels = {"pc", "mobile"}

function request()
  local n = sent
  sent = sent + 1
  local index = tid * slice + (n % slice)
  local body
  if n % 10 == 9 then
    body = string.format(
      '{"case_no":"BENCH-%09d","channel":"%s","level":"dissatisfied","reasons":["ON401"]}',
      index, channels[n % 2 + 1])
  else
    body = string.format('{"case_no":"BENCH-%09d","channel":"%s","level":"%s"}',
      index, channels[n % 2 + 1], good[(math.floor(n / 2)) % 2 + 1])
  end
  return wrk.format("POST", "/api/ratings", headers, body)
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    if hdrs["Idempotent-Replayed"] or hdrs["idempotent-replayed"] then
      replayed = replayed + 1
    end
    local no = string.match(body, '"case_no":"([^"]+)"')
    if no then acks[#acks + 1] = no end
  end
end

function done(summary, latency, requests)
  local merged = {}
  local total_acks = 0
  local total_replayed = 0
  local out = io.open(ack_path, "w")
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do
      merged[tostring(code)] = (merged[tostring(code)] or 0) + n
    end
    local a = t:get("acks")
    for i = 1, #a do out:write(a[i], "\n") end
    total_acks = total_acks + #a
    total_replayed = total_replayed + t:get("replayed")
  end
  out:close()
  local parts = {}
  for code, n in pairs(merged) do parts[#parts + 1] = string.format('"%s":%d', code, n) end
  local e = summary.errors
  io.write(string.format(
    '__PREFIX__{"requests":%d,"duration_us":%d,"bytes":%d,"acknowledged":%d,"replayed":%d,' ..
    '"statuses":{%s},"socket_errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, total_acks, total_replayed,
    table.concat(parts, ","), e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def wrk_available() -> bool:
    return Path(WRK).exists() or shutil.which("wrk") is not None


def write_script(path: Path, *, api_key: str, cases: int, threads: int, ack_path: Path) -> Path:
    text = (
        _LUA.replace("__API_KEY__", api_key)
        .replace("__CASE_COUNT__", str(int(cases)))
        .replace("__THREADS__", str(int(threads)))
        .replace("__ACK_PATH__", str(ack_path))
        .replace("__PREFIX__", RESULT_PREFIX)
    )
    path.write_text(text, encoding="utf-8")
    return path


def run_wrk(url: str, script: Path, *, threads: int, connections: int, duration: int) -> dict:
    """Run wrk against a loopback URL and return the script's result plus wrk's own summary line."""
    if not url.startswith(("http://127.0.0.1:", "http://[::1]:", "http://localhost:")):
        raise ValueError("压测只允许本机回环地址")
    exe = WRK if Path(WRK).exists() else shutil.which("wrk")
    cmd = [
        exe,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"wrk 超过 {duration + 60} 秒仍未结束，已终止") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"wrk 运行失败（{proc.returncode}）：{proc.stderr.strip() or proc.stdout[-2000:]}")
    return parse_output(proc.stdout)


def parse_output(text: str) -> dict:
    result = None
    for line in text.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
    if result is None:
        raise RuntimeError(f"无法解析 wrk 输出：\n{text[-2000:]}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    result["wrk_requests_per_s"] = float(m.group(1)) if m else None
    result["wrk_output"] = text
    return result
