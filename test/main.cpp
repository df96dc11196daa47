// The Boost.Test runner: the header-only variant, compiled once here.
#define BOOST_TEST_MODULE tlsx
#include <boost/test/included/unit_test.hpp>
