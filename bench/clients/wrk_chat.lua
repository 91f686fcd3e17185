-- wrk script: every request is one OpenAI chat completion, as an SDK caller sends it.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"promptpack-reference","messages":[{"role":"user","content":'
  .. '"The capital of France is"}],"max_tokens":16}'
