// Tests for the accept loop's pause: a failure of one connection retries at once, exhaustion and
// unknown errors pause instead of spinning.
#include "server/accept_backoff.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <initializer_list>

namespace {

// The pause in milliseconds, or -1 when the loop accepts again at once (printable by BOOST_TEST).
long long pause_ms(const boost::system::error_code& error) {
  const auto pause = promptpack::server::accept_backoff(error);
  return pause ? pause->count() : -1;
}

// As accept(2) reports it, through Asio.
boost::system::error_code from_accept(int errno_value) {
  return {errno_value, boost::system::system_category()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(accept_backoff)

BOOST_AUTO_TEST_CASE(out_of_descriptors_or_memory_pauses_briefly) {
  for (int error : {EMFILE, ENFILE, ENOBUFS, ENOMEM}) {
    BOOST_TEST_CONTEXT("errno " << error) {
      BOOST_TEST(pause_ms(from_accept(error)) >= 50);
      BOOST_TEST(pause_ms(from_accept(error)) <= 1000);
    }
  }
  BOOST_TEST(pause_ms(boost::asio::error::no_descriptors) >= 50);
}

BOOST_AUTO_TEST_CASE(a_failure_of_one_pending_connection_retries_at_once) {
  for (int error : {ECONNABORTED, ECONNRESET, EPROTO, ENETDOWN, ENETUNREACH, EHOSTUNREACH,
                    ENOPROTOOPT, EINTR, EAGAIN, EWOULDBLOCK}) {
    BOOST_TEST_CONTEXT("errno " << error) {
      BOOST_TEST(pause_ms(from_accept(error)) == -1);
    }
  }
  BOOST_TEST(pause_ms(boost::asio::error::connection_aborted) == -1);
}

BOOST_AUTO_TEST_CASE(an_unknown_failure_pauses_rather_than_spins) {
  for (int error : {EINVAL, EBADF, ENOTSOCK, EPERM}) {
    BOOST_TEST_CONTEXT("errno " << error) {
      BOOST_TEST(pause_ms(from_accept(error)) > 0);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
