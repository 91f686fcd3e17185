#!/usr/bin/env python3
"""LiteLLM's request pattern for custom endpoints, without LiteLLM: one prompt per POST, alone or on batch_completion's thread pool."""
import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter


def make_post(connection, workers):
    if connection == "per-request":
        # A plain requests.post opens a new connection for every call and closes it after.
        return requests.post
    # LiteLLM's custom branch (litellm/main.py, custom_llm_provider == "custom") posts through
    # litellm.module_level_client: one keep-alive client shared by every thread. A Session whose pool
    # holds a connection per worker is the requests equivalent.
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=workers))
    return session.post


def complete(post, api_base, model, prompt):
    # The body LiteLLM builds for one completion(): its messages joined into the only prompt.
    try:
        resp = post(api_base, json={"model": model, "params": {"prompt": [prompt], "max_tokens": 32,
                                                               "temperature": 0.7, "top_p": 1.0, "top_k": 40}})
        return resp.status_code == 200 and isinstance(resp.json()["data"][0]["output"][0], str)
    except (requests.RequestException, ValueError, KeyError, IndexError, TypeError):
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-base", required=True)
    parser.add_argument("--prompts", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=0,
                        help="0: one call after the other; N: a ThreadPoolExecutor(N), as litellm.batch_completion (100)")
    parser.add_argument("--connection", choices=["shared", "per-request"], default="shared",
                        help="shared: one keep-alive pool, as LiteLLM's module_level_client; per-request: requests.post")
    parser.add_argument("--model", default="meta-llama/Llama-2-13b-hf")
    args = parser.parse_args()

    post = make_post(args.connection, max(args.workers, 1))
    prompts = [f"The capital of country number {i} is" for i in range(args.prompts)]
    # CPU is counted over the calls alone, as wall time is: start-up and imports are paid once by a long-lived program.
    start, cpu_start = time.perf_counter(), os.times()
    if args.workers == 0:
        results = [complete(post, args.api_base, args.model, p) for p in prompts]
    else:
        # batch_completion submits one litellm.completion per message list, then waits for them in order.
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            futures = [pool.submit(complete, post, args.api_base, args.model, p) for p in prompts]
            results = [f.result() for f in futures]
    seconds, cpu_end = time.perf_counter() - start, os.times()
    cpu = cpu_end.user - cpu_start.user + cpu_end.system - cpu_start.system
    ok = sum(results)
    print(f"litellm_pattern: {ok} prompts ok, {len(results) - ok} failed in {seconds:.3f} s = {ok / seconds:.0f} prompts/s,"
          f" CPU {cpu:.3f} s")
    return 1 if ok != len(results) else 0


if __name__ == "__main__":
    sys.exit(main())
