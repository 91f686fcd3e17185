// One connection slot of an endpoint: takes batches, exchanges them, carries out the decision.
#include "client/client_engine.hpp"
#include "http/http_connection.hpp"
#include "retry/retry_after.hpp"
#include "text/endpoint_quote.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include <cmath>
#include <random>
#include <span>
#include <sstream>

namespace promptpack::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

// simdjson reads up to this many bytes past a body's end; reserving them up front saves a copy.
constexpr std::size_t parse_padding_bytes = 64;
// How much of an error response's body an error message quotes.
constexpr std::size_t error_excerpt_bytes = 200;

// Rounded up to whole milliseconds (a timeout is the least time allowed; check_config keeps it to
// one or more), from whole microseconds so that 1.1 s is 1100 ms, not 1101.
std::chrono::milliseconds to_ms(double seconds) {
  const std::int64_t micros = std::llround(seconds * 1e6);
  return std::chrono::milliseconds((micros + 999) / 1000);
}

// Seconds as a person writes them: "0.3", "30", "300".
std::string seconds_text(double seconds) {
  std::ostringstream out;
  out << seconds;
  return out.str();
}

http_settings settings_for(const endpoint_url& url, const client_config& config) {
  return http_settings{.target = url.target,
                       .host_header = url.host_header,
                       .api_key = config.api_key,
                       .headers = config.headers,
                       .request_timeout = to_ms(config.request_timeout_s),
                       .max_response_bytes = config.max_response_bytes};
}

template <class Stream>
class connection {
 public:
  connection(client_engine& engine, std::size_t endpoint, asio::any_io_executor executor)
      : engine_(engine),
        endpoint_(endpoint),
        url_(engine.url(endpoint)),
        http_(settings_for(url_, engine.config()), make_opener(engine, url_, executor)),
        jitter_rng_(std::random_device{}()) {}

  asio::awaitable<void> run() {
    // Shutdown cancels the pending operation; the exchange then ends as an error, not a throw.
    co_await asio::this_coro::throw_if_cancelled(false);
    for (;;) {
      batch_ptr b = co_await engine_.queue().async_next_batch(endpoint_, asio::use_awaitable);
      if (!b) break;
      const std::size_t dispatched = b->items.size();
      // Nothing to send when every caller in it has cancelled, or no prompt is valid UTF-8.
      if (!engine_.drop_abandoned(*b) || !encode(*b)) {
        engine_.queue().exchange_skipped(endpoint_, dispatched, clock::now());
        engine_.queue().recycle(std::move(b));
        continue;
      }
      if (b->items.size() < dispatched) {
        engine_.queue().prompts_dropped(endpoint_, dispatched - b->items.size(), clock::now());
      }
      const auto started = clock::now();
      exchange_outcome outcome = co_await exchange(*b, started);
      // The clock was read when the exchange ended; nothing since is worth a second read.
      const auto now = started + outcome.elapsed;
      engine_.queue().exchange_done(endpoint_, outcome, now);
      settle(std::move(b), std::move(outcome), now);
    }
    http_.close();
  }

 private:
  using opener = typename http_connection<Stream>::opener;

  static opener make_opener(client_engine& engine, const endpoint_url& url,
                            asio::any_io_executor executor) {
    const auto timeout = to_ms(engine.config().connect_timeout_s);
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      return [executor, &url, timeout] { return open_tcp(executor, url, timeout); };
    } else {
      return [executor, &url, timeout, &engine] {
        return open_tls(executor, url, engine.tls_context(), engine.config().tls_verify, timeout);
      };
    }
  }

  std::string where() const { return url_.host + ":" + url_.port_text; }

  // Text the endpoint sent, as a message may show it: bounded, key redacted, controls escaped.
  std::string quote(std::string_view text) const {
    return quote_endpoint_text(text, engine_.key_redactor(), error_excerpt_bytes);
  }

  // Writes the request body of `b`. A prompt that is not valid UTF-8 is found here, in the pass
  // that escapes it, and leaves the batch with its error; false when no prompt is left.
  bool encode(batch& b) {
    prompts_.clear();
    auto& body = http_.request_body();
    b.group->writer.begin(body);
    const auto& items = b.items;
    // Neighbouring prompts mostly share a submission, and with it whether they are JSON-safe:
    // such a run is gathered, then written at once.
    for (std::size_t i = 0; i < items.size();) {
      const submission* owner = items[i].owner;
      const std::size_t run_start = prompts_.size();
      if (owner->json_safe) {
        for (; i < items.size() && items[i].owner == owner; ++i)
          prompts_.push_back(items[i].prompt);
        request_writer::add_json_safe_prompts(body, std::span(prompts_).subspan(run_start),
                                              run_start == 0);
      } else {
        for (; i < items.size() && items[i].owner == owner; ++i) {
          if (request_writer::add_prompt(body, items[i].prompt, prompts_.empty()))
            prompts_.push_back(items[i].prompt);
        }
      }
    }
    b.group->writer.end(body);
    // The body holds the valid prompts in order, as the batch does once the others are out.
    return prompts_.size() == b.items.size() || engine_.drop_invalid_utf8(b);
  }

  asio::awaitable<exchange_outcome> exchange(batch& b, clock::time_point started) {
    auto& counters = engine_.counters();
    auto& body = http_.request_body();
    const int opens_before = http_.opens();
    counters.in_flight.fetch_add(1, std::memory_order_relaxed);
    const http_transfer transfer =
        co_await http_.async_exchange(response_body_, parse_padding_bytes);
    counters.in_flight.fetch_sub(1, std::memory_order_relaxed);
    counters.connects.fetch_add(static_cast<std::uint64_t>(http_.opens() - opens_before),
                                std::memory_order_relaxed);
    if (transfer.error != transfer_error::unreachable && transfer.error != transfer_error::tls) {
      counters.requests.fetch_add(1, std::memory_order_relaxed);
      counters.requests_by_prompts[client_stats::size_class(b.items.size())].fetch_add(
          1, std::memory_order_relaxed);
      counters.prompts_sent.fetch_add(b.items.size(), std::memory_order_relaxed);
      counters.bytes_sent.fetch_add(body.size(), std::memory_order_relaxed);
    }
    const auto elapsed = clock::now() - started;
    if (transfer.status != 0)
      engine_.latency().record(std::chrono::duration_cast<std::chrono::microseconds>(elapsed));
    exchange_outcome outcome = classify(transfer);
    outcome.prompts = b.items.size();
    outcome.elapsed = elapsed;
    co_return outcome;
  }

  // The exchange as the retry policy sees it: transport failures, HTTP statuses, and the body.
  exchange_outcome classify(const http_transfer& t) {
    const auto& config = engine_.config();
    switch (t.error) {
      case transfer_error::none:
        break;
      case transfer_error::unreachable:
        return {.result = exchange_result::connect_failed, .detail = t.detail};
      case transfer_error::tls:
        return {.result = exchange_result::tls_failed, .detail = t.detail};
      case transfer_error::timeout:
        return {.result = exchange_result::timeout,
                .detail = "no complete response from " + where() + " within " +
                          seconds_text(config.request_timeout_s) + " s"};
      case transfer_error::stale:
      case transfer_error::lost:
        return {.result = exchange_result::connection_lost,
                .detail = "connection to " + where() + " lost: " + t.detail};
      case transfer_error::body_limit:
        return {.result = exchange_result::bad_body,
                .status = t.status,
                .detail = t.detail + "; send fewer prompts per request"};
      case transfer_error::framing:
        return {.result = exchange_result::framing,
                .status = t.status,
                .detail = "the answer from " + where() + " could not be framed (" + t.detail +
                          "); the connection was closed and the answer not used"};
    }
    engine_.counters().bytes_received.fetch_add(t.body.size(), std::memory_order_relaxed);
    if (t.status < 200 || t.status > 299) {
      exchange_outcome outcome{.result = exchange_result::http_status, .status = t.status};
      outcome.detail = "endpoint answered HTTP " + std::to_string(t.status) + " " +
                       quote(t.reason) + ": " + quote(t.body);
      if (t.status >= 300 && t.status < 400) {
        // Redirects are not followed: the API key must never reach another host.
        outcome.detail = "endpoint answered HTTP " + std::to_string(t.status) + " " +
                         quote(t.reason) + ", redirecting to '" + quote(t.location) +
                         "'; redirects are not followed (the API key is never sent to another "
                         "host): pass that URL as --api-base if you trust it";
      }
      if (!t.retry_after.empty()) {
        outcome.retry_after = parse_retry_after(t.retry_after, std::chrono::system_clock::now());
      }
      return outcome;
    }
    // The body is most often a view of the connection's read buffer, which stays as it is until
    // the next exchange: the answers are delivered before that.
    parsed_ = &parser_.parse(t.body, prompts_);
    switch (parsed_->status) {
      case response_status::ok:
        return {.status = t.status};
      case response_status::endpoint_error:
        return {.result = exchange_result::endpoint_message,
                .status = t.status,
                .detail = quote(parsed_->message)};
      case response_status::protocol_error:
        break;
    }
    return {.result = exchange_result::bad_body, .status = t.status, .detail = parsed_->message};
  }

  void settle(batch_ptr b, exchange_outcome outcome, clock::time_point now) {
    auto& queue = engine_.queue();
    const decision_context context{
        .now = now,
        .deadline = b->deadline,
        .jitter = std::uniform_real_distribution<double>(0, 1)(jitter_rng_),
        .cancelling = engine_.cancelling(),
        .other_endpoint_healthy = queue.another_endpoint_available(endpoint_, now)};
    const decision d = engine_.policy().decide(outcome, b->items.size(), b->budget, context);
    switch (d.action) {
      case next_action::deliver:
        deliver_answers(std::move(b));
        return;
      case next_action::resend:
        queue.resend(std::move(b), now);
        return;
      case next_action::retry_later:
        if (d.pause_endpoint) {
          queue.pause_endpoint(endpoint_, now + d.delay, now);
        } else {
          engine_.counters().retried.fetch_add(1, std::memory_order_relaxed);
        }
        queue.retry_later(std::move(b), now + d.delay, now);
        return;
      case next_action::split:
        queue.too_large(endpoint_, b->items.size(), now);
        [[fallthrough]];
      case next_action::bisect: {
        engine_.counters().splits.fetch_add(1, std::memory_order_relaxed);
        batch_ptr second = queue.make_batch();
        split_off(*b, b->items.size() / 2, *second);
        queue.resend(std::move(second), now);
        queue.resend(std::move(b), now);
        return;
      }
      case next_action::fail:
        break;
    }
    if (d.endpoint_refuses) queue.endpoint_refused(endpoint_, outcome.status, outcome.detail);
    if (!d.why.empty()) outcome.detail += "; " + d.why;
    engine_.fail(std::move(b), outcome, d.error);
  }

  void deliver_answers(batch_ptr b) {
    const std::size_t answered =
        static_cast<std::size_t>(std::count_if(parsed_->answers.begin(), parsed_->answers.end(),
                                               [](const auto& a) { return a.answered; }));
    if (answered == b->items.size()) {
      engine_.deliver(std::move(b), parsed_, nullptr);
      return;
    }
    const prompt_error unanswered{
        .type = errc::protocol,
        .message = "endpoint's answer breaks the protocol: " + parsed_->unanswered_reason,
        .http_status = 200,
        .attempts = b->budget.attempts()};
    engine_.deliver(std::move(b), parsed_, &unanswered);
  }

  client_engine& engine_;
  std::size_t endpoint_;
  const endpoint_url& url_;
  http_connection<Stream> http_;
  std::string response_body_;  // a body not kept in place (see http_transfer::body); reused
  response_parser parser_;
  const parsed_response* parsed_ = nullptr;
  std::vector<std::string_view> prompts_;
  std::minstd_rand jitter_rng_;
};

template <class Stream>
asio::awaitable<void> run_connection(std::shared_ptr<client_engine> engine, std::size_t endpoint,
                                     asio::any_io_executor executor) {
  connection<Stream> conn(*engine, endpoint, executor);
  co_await conn.run();
}

}  // namespace

void spawn_connection(std::shared_ptr<client_engine> engine, std::size_t endpoint,
                      asio::any_io_executor strand, asio::cancellation_slot cancel,
                      std::function<void()> on_exit) {
  auto done =
      asio::bind_cancellation_slot(cancel, [on_exit = std::move(on_exit)](std::exception_ptr e) {
        if (e) {
          // Only resource exhaustion can get here; say so rather than dying silently.
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            std::fprintf(stderr, "promptpack: a connection stopped on an internal error: %s\n",
                         ex.what());
          } catch (...) {
            std::fprintf(stderr, "promptpack: a connection stopped on an unknown internal error\n");
          }
        }
        on_exit();
      });
  if (engine->url(endpoint).tls) {
    asio::co_spawn(strand, run_connection<tls_stream>(std::move(engine), endpoint, strand),
                   std::move(done));
  } else {
    asio::co_spawn(strand, run_connection<beast::tcp_stream>(std::move(engine), endpoint, strand),
                   std::move(done));
  }
}

}  // namespace promptpack::detail
