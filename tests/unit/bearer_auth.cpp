// Tests for the gateway's key check: a Bearer token, the scheme in any case, and no key needed
// when none is set.
#include "gateway/bearer_auth.hpp"

#include <boost/test/unit_test.hpp>

namespace {

namespace gw = promptpack::gateway;
using verdict = gw::bearer_auth::verdict;

}  // namespace

BOOST_AUTO_TEST_SUITE(bearer_auth)

BOOST_AUTO_TEST_CASE(only_the_right_key_is_allowed) {
  const gw::bearer_auth auth("s3cret");
  BOOST_TEST(auth.required());
  BOOST_TEST((auth.check("Bearer s3cret") == verdict::allowed));
  BOOST_TEST((auth.check("bearer s3cret") == verdict::allowed));
  BOOST_TEST((auth.check("BEARER   s3cret ") == verdict::allowed));
  BOOST_TEST((auth.check("Bearer s3cre") == verdict::wrong));
  BOOST_TEST((auth.check("Bearer s3cret2") == verdict::wrong));
  BOOST_TEST((auth.check("Bearer S3CRET") == verdict::wrong));
}

BOOST_AUTO_TEST_CASE(no_token_is_missing) {
  const gw::bearer_auth auth("s3cret");
  BOOST_TEST((auth.check("") == verdict::missing));
  BOOST_TEST((auth.check("Bearer ") == verdict::missing));
  BOOST_TEST((auth.check("Basic s3cret") == verdict::missing));
  BOOST_TEST((auth.check("s3cret") == verdict::missing));
}

BOOST_AUTO_TEST_CASE(without_a_key_everyone_is_allowed) {
  const gw::bearer_auth open("");
  BOOST_TEST(!open.required());
  BOOST_TEST((open.check("") == verdict::allowed));
  BOOST_TEST((open.check("Bearer anything") == verdict::allowed));
}

BOOST_AUTO_TEST_SUITE_END()
