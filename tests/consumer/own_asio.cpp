// A program that compiles Asio itself (separate compilation, as promptpack does): linking it with
// the installed library must not give duplicate symbols.
#include <boost/asio/impl/src.hpp>
