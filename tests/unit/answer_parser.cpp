// Tests for the answer parser: a body given whole is kept in place, one in pieces or chunks is
// copied, and the status and fields are read either way.
#include "http/answer_parser.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

namespace {

using parser_under_test = promptpack::detail::answer_parser;
using promptpack::detail::http_transfer;

// Feeds `pieces` to `parser` one put() at a time, as reads would deliver them.
void feed(parser_under_test& parser, std::initializer_list<std::string_view> pieces) {
  for (const auto piece : pieces) {
    boost::beast::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(piece.data(), piece.size()), ec);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST_REQUIRE(used == piece.size());
  }
  BOOST_TEST_REQUIRE(parser.is_done());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(answer_parser)

BOOST_AUTO_TEST_CASE(a_body_given_whole_is_viewed_in_place) {
  http_transfer out;
  std::string copy = "left from the last answer";
  parser_under_test parser(out, copy);
  parser.eager(true);
  const std::string bytes = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nRetry-After: 7\r\n\r\nhello";
  feed(parser, {bytes});
  BOOST_TEST(parser.status() == 200);
  BOOST_TEST(out.retry_after == "7");
  BOOST_TEST(parser.body_in_place());
  BOOST_TEST(parser.body() == "hello");
  BOOST_TEST((parser.body().data() == bytes.data() + bytes.size() - 5));  // no copy
  BOOST_TEST(copy.empty());                                               // cleared, not used
}

BOOST_AUTO_TEST_CASE(a_body_in_pieces_is_copied) {
  http_transfer out;
  std::string copy;
  parser_under_test parser(out, copy);
  parser.eager(true);
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  feed(parser, {head + "he", "llo"});
  BOOST_TEST(!parser.body_in_place());
  BOOST_TEST(parser.body() == "hello");
  BOOST_TEST(copy == "hello");
}

BOOST_AUTO_TEST_CASE(a_chunked_body_is_copied) {
  http_transfer out;
  std::string copy;
  parser_under_test parser(out, copy);
  parser.eager(true);
  feed(parser, {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"});
  BOOST_TEST(!parser.body_in_place());
  BOOST_TEST(copy == "hello");
  BOOST_TEST(parser.body() == "hello");
}

BOOST_AUTO_TEST_CASE(an_empty_body_is_empty) {
  http_transfer out;
  std::string copy = "stale";
  parser_under_test parser(out, copy);
  parser.eager(true);
  feed(parser, {"HTTP/1.1 204 No Content\r\n\r\n"});
  BOOST_TEST(parser.status() == 204);
  BOOST_TEST(parser.body().empty());
}

BOOST_AUTO_TEST_SUITE_END()
