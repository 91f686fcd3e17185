#!/usr/bin/env python3
"""A batching asyncio client of the protocol: tasks on one aiohttp session POST prompt batches and decode every answer."""
import argparse
import asyncio
import json
import os
import sys
import time

import aiohttp


def batch_body(model, first, count):
    prompts = [f"The capital of country number {i} is" for i in range(first, first + count)]
    return json.dumps({"model": model, "params": {"prompt": prompts, "max_tokens": 32, "temperature": 0.7,
                                                  "top_p": 1.0, "top_k": 40}})


async def worker(session, args, next_batch, totals):
    while True:
        # Tasks share one cursor, so every prompt is sent exactly once whatever the tasks' speeds.
        first = next_batch[0]
        if first >= args.prompts:
            return
        count = min(args.batch_size, args.prompts - first)
        next_batch[0] = first + count
        try:
            async with session.post(args.api_base, data=batch_body(args.model, first, count),
                                    headers={"Content-Type": "application/json"}) as resp:
                answer = json.loads(await resp.read())
            ok = resp.status == 200 and answer.get("message", "ok") == "ok" and len(answer["data"]) == count
        except (aiohttp.ClientError, ValueError, KeyError, TypeError, AttributeError):
            ok = False
        totals["ok" if ok else "failed"] += count


async def run(args):
    totals = {"ok": 0, "failed": 0}
    next_batch = [0]
    connector = aiohttp.TCPConnector(limit=args.connections)
    start, cpu_start = time.perf_counter(), os.times()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session, args, next_batch, totals) for _ in range(args.connections)))
    return totals, time.perf_counter() - start, cpu_seconds_since(cpu_start)


def cpu_seconds_since(before):
    # The process's user + system time over the work alone: the interpreter's start-up and imports
    # are paid once by a long-lived program, so they are not counted against each prompt.
    now = os.times()
    return now.user - before.user + now.system - before.system


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-base", required=True)
    parser.add_argument("--prompts", type=int, default=200000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--connections", type=int, default=8, help="concurrent tasks, and the connector's limit")
    parser.add_argument("--model", default="meta-llama/Llama-2-13b-hf")
    args = parser.parse_args()
    totals, seconds, cpu = asyncio.run(run(args))
    print(f"aiohttp_client: {totals['ok']} prompts ok, {totals['failed']} failed in {seconds:.3f} s"
          f" = {totals['ok'] / seconds:.0f} prompts/s, CPU {cpu:.3f} s")
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
