-- wrk script: every request POSTs the same batch of WRK_BATCH (default 256) prompts and nothing is parsed.
local count = tonumber(os.getenv("WRK_BATCH") or "256")
local prompts = {}
for i = 0, count - 1 do
  prompts[#prompts + 1] = string.format('"The capital of country number %d is"', i)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"meta-llama/Llama-2-13b-hf","params":{"prompt":[' .. table.concat(prompts, ",")
  .. '],"max_tokens":32,"temperature":0.7,"top_p":1.0,"top_k":40}}'
