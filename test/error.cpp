// tlsx's error categories: messages, names, mbedTLS codes and alerts, and the conditions that
// group them.
#include <tlsx/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>
#include "support/run.hpp"

#include <boost/test/unit_test.hpp>

#include <mbedtls/asn1.h>
#include <mbedtls/error.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>

#include <set>
#include <sstream>
#include <string>
#include <string_view>

namespace net = boost::asio;
using tlsx::error_code;
using tlsx_test::contains;

namespace {

std::string strerror_of(int code) {
    char buf[256];
    mbedtls_strerror(code, buf, sizeof buf);
    return buf;
}

std::string name_of(const error_code& ec) {
    return ec.category().name();
}

constexpr int first_error = static_cast<int>(tlsx::error::stream_truncated);
constexpr int last_error = static_cast<int>(tlsx::error::too_many_ignored_records);

} // namespace

BOOST_AUTO_TEST_SUITE(error)

BOOST_AUTO_TEST_CASE(every_error_has_its_own_readable_message) {
    BOOST_TEST(first_error == 1);
    std::set<std::string> messages;
    for (int v = first_error; v <= last_error; ++v) {
        const error_code ec = static_cast<tlsx::error>(v);
        BOOST_TEST_CONTEXT("tlsx::error " << v) {
            BOOST_TEST(ec.value() == v);
            BOOST_TEST(name_of(ec) == "tlsx");
            BOOST_TEST(!ec.message().empty());
            BOOST_TEST(!contains(ec.message(), "unknown tlsx error"), ec.message());
            BOOST_TEST(messages.insert(ec.message()).second, "duplicate: " << ec.message());
        }
    }
    BOOST_TEST(messages.size() == static_cast<std::size_t>(last_error - first_error + 1));
    // Values outside the enumeration still say something.
    BOOST_TEST(!error_code(last_error + 1, tlsx::tlsx_category()).message().empty());
}

BOOST_AUTO_TEST_CASE(messages_say_what_happened) {
    using tlsx::error;
    BOOST_TEST(contains(error_code(error::stream_truncated).message(), "close_notify"));
    BOOST_TEST(contains(error_code(error::certificate_expired).message(), "expired"));
    BOOST_TEST(contains(error_code(error::certificate_untrusted).message(), "not trusted"));
    BOOST_TEST(contains(error_code(error::certificate_name_mismatch).message(), "host name"));
    BOOST_TEST(contains(error_code(error::wrong_password).message(), "password"));
    BOOST_TEST(contains(error_code(error::unknown_ciphersuite).message(), "ciphersuite"));
    // The new TLS 1.3 errors name what to do or what happened.
    BOOST_TEST(contains(error_code(error::server_name_required).message(), "set_server_name"));
    BOOST_TEST(contains(error_code(error::key_update_unsupported).message(), "KeyUpdate"));
    BOOST_TEST(contains(error_code(error::key_update_unsupported).message(), "unexpected_message"));
    BOOST_TEST(contains(error_code(error::invalid_request).message(), "TLS 1.3"));
    BOOST_TEST(contains(error_code(error::post_handshake_auth_unsupported).message(),
                        "client certificate"));
    BOOST_TEST(contains(error_code(error::sync_deadline_unsupported).message(), "asynchronous"));
    BOOST_TEST(error_code(error::sync_deadline_unsupported) == tlsx::condition::configuration);
}

BOOST_AUTO_TEST_CASE(categories_have_their_documented_names) {
    BOOST_TEST(std::string(tlsx::tlsx_category().name()) == "tlsx");
    BOOST_TEST(std::string(tlsx::mbedtls_category().name()) == "tlsx.mbedtls");
    BOOST_TEST(std::string(tlsx::alert_category().name()) == "tlsx.alert");
    BOOST_TEST(std::string(tlsx::condition_category().name()) == "tlsx.condition");
    // The enums find their categories.
    const error_code ec = tlsx::error::closed;
    BOOST_TEST(name_of(ec) == "tlsx");
    const boost::system::error_condition cond = tlsx::condition::protocol;
    BOOST_TEST(std::string(cond.category().name()) == "tlsx.condition");
    BOOST_TEST(name_of(tlsx::make_mbedtls_error(MBEDTLS_ERR_SSL_INVALID_MAC)) == "tlsx.mbedtls");
    // All four are distinct.
    const boost::system::error_category* all[] = {&tlsx::tlsx_category(), &tlsx::mbedtls_category(),
                                                  &tlsx::alert_category(),
                                                  &tlsx::condition_category()};
    for (auto* a : all)
        for (auto* b : all)
            BOOST_TEST((*a == *b) == (a == b));
}

BOOST_AUTO_TEST_CASE(mbedtls_codes_keep_their_value_and_strerror_text) {
    const int codes[] = {
        MBEDTLS_ERR_SSL_INVALID_RECORD,
        MBEDTLS_ERR_SSL_INVALID_MAC,
#if MBEDTLS_VERSION_MAJOR >= 3
        MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE, // 3.x folded the BAD_HS_* codes into a few
#else
        MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO,
#endif
        MBEDTLS_ERR_X509_CERT_VERIFY_FAILED,
        MBEDTLS_ERR_PK_PASSWORD_MISMATCH,
        MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT,
        MBEDTLS_ERR_X509_INVALID_FORMAT + MBEDTLS_ERR_ASN1_OUT_OF_DATA, // high + low level
    };
    for (int code : codes) {
        BOOST_TEST_CONTEXT("mbedTLS code -0x" << std::hex << -code) {
            const error_code ec = tlsx::make_mbedtls_error(code);
            BOOST_TEST(ec.value() == code);
            BOOST_TEST(ec == error_code(code, tlsx::mbedtls_category()));
            BOOST_TEST(!!ec);
            const std::string text = strerror_of(code);
            BOOST_TEST(contains(ec.message(), text), ec.message() << " vs " << text);
        }
    }
    const error_code ec = tlsx::make_mbedtls_error(MBEDTLS_ERR_SSL_INVALID_RECORD);
    BOOST_TEST(ec.value() == MBEDTLS_ERR_SSL_INVALID_RECORD);
    BOOST_TEST(ec != tlsx::make_mbedtls_error(MBEDTLS_ERR_SSL_INVALID_MAC));
    BOOST_TEST(contains(ec.message(), "invalid SSL record"), ec.message());
    // A code mbedTLS does not know is still described.
    BOOST_TEST(!tlsx::make_mbedtls_error(-0x7F7F).message().empty());
}

BOOST_AUTO_TEST_CASE(alert_messages_name_the_alert) {
    const error_code handshake_failure(40, tlsx::alert_category());
    BOOST_TEST(contains(handshake_failure.message(), "handshake_failure"),
               handshake_failure.message());
    BOOST_TEST(contains(error_code(48, tlsx::alert_category()).message(), "unknown_ca"));
    BOOST_TEST(contains(error_code(112, tlsx::alert_category()).message(), "unrecognized_name"));
    BOOST_TEST(
        contains(error_code(120, tlsx::alert_category()).message(), "no_application_protocol"));
    BOOST_TEST(!error_code(254, tlsx::alert_category()).message().empty());
    // Distinct alerts, distinct messages.
    BOOST_TEST(error_code(40, tlsx::alert_category()).message() !=
               error_code(42, tlsx::alert_category()).message());
}

BOOST_AUTO_TEST_CASE(conditions_group_errors_as_documented) {
    using tlsx::condition;
    using tlsx::error;
    BOOST_TEST((error_code(error::stream_truncated) == condition::truncated));

    for (error e : {error::certificate_expired, error::certificate_not_yet_valid,
                    error::certificate_untrusted, error::certificate_name_mismatch,
                    error::certificate_revoked, error::certificate_rejected,
                    error::certificate_invalid, error::no_peer_certificate}) {
        BOOST_TEST_CONTEXT(error_code(e).message()) {
            BOOST_TEST((error_code(e) == condition::certificate));
            BOOST_TEST((error_code(e) != condition::protocol));
        }
    }
    for (error e : {error::unknown_ciphersuite, error::invalid_certificate,
                    error::invalid_private_key, error::wrong_password, error::key_mismatch}) {
        BOOST_TEST_CONTEXT(error_code(e).message()) {
            BOOST_TEST((error_code(e) == condition::configuration));
        }
    }

    const error_code reset = net::error::connection_reset;
    BOOST_TEST((reset == condition::transport));
    BOOST_TEST((reset != condition::protocol));
    BOOST_TEST((error_code(net::error::broken_pipe) == condition::transport));
    BOOST_TEST((error_code(net::error::eof) == condition::transport));

    // Received alerts and TLS-level mbedTLS failures are protocol errors.
    BOOST_TEST((error_code(40, tlsx::alert_category()) == condition::protocol));
    BOOST_TEST((tlsx::make_mbedtls_error(MBEDTLS_ERR_SSL_INVALID_RECORD) == condition::protocol));
    BOOST_TEST((tlsx::make_mbedtls_error(MBEDTLS_ERR_SSL_INVALID_MAC) == condition::protocol));
    BOOST_TEST((error_code(error::renegotiation_refused) == condition::protocol));
    BOOST_TEST((error_code(error::key_update_unsupported) == condition::protocol));
    BOOST_TEST((error_code(error::too_many_ignored_records) == condition::protocol));
    BOOST_TEST((error_code(error::server_name_required) == condition::configuration));
    // Asking for what a session cannot do is neither a protocol failure nor a configuration.
    BOOST_TEST((error_code(error::invalid_request) != condition::protocol));
    BOOST_TEST((error_code(error::invalid_request) != condition::configuration));
    // mbedTLS's own verification failure is a certificate one; its parse errors configuration.
    BOOST_TEST(
        (tlsx::make_mbedtls_error(MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) == condition::certificate));
    BOOST_TEST(
        (tlsx::make_mbedtls_error(MBEDTLS_ERR_X509_INVALID_FORMAT + MBEDTLS_ERR_ASN1_OUT_OF_DATA) ==
         condition::configuration));
    BOOST_TEST(
        (tlsx::make_mbedtls_error(MBEDTLS_ERR_PK_PASSWORD_MISMATCH) == condition::configuration));

    // Each error belongs to one group at most.
    BOOST_TEST((error_code(error::stream_truncated) != condition::protocol));
    BOOST_TEST((error_code(error::stream_truncated) != condition::transport));
    BOOST_TEST((error_code(error::unknown_ciphersuite) != condition::certificate));
}

BOOST_AUTO_TEST_CASE(condition_messages_are_readable) {
    for (auto c :
         {tlsx::condition::truncated, tlsx::condition::protocol, tlsx::condition::certificate,
          tlsx::condition::transport, tlsx::condition::configuration}) {
        const boost::system::error_condition cond = c;
        BOOST_TEST(!cond.message().empty());
    }
}

BOOST_AUTO_TEST_CASE(errors_print_category_value_and_message) {
    std::ostringstream os;
    os << tlsx::error::closed;
    BOOST_TEST(contains(os.str(), "tlsx:3"), os.str());
    BOOST_TEST(contains(os.str(), error_code(tlsx::error::closed).message()), os.str());
    std::ostringstream cs;
    cs << tlsx::condition::certificate;
    BOOST_TEST(contains(cs.str(), "tlsx.condition"), cs.str());
}

BOOST_AUTO_TEST_CASE(errors_convert_to_std_error_code) {
    const error_code ec = tlsx::error::certificate_expired;
    const std::error_code sec = ec;
    BOOST_TEST(!!sec);
    BOOST_TEST(sec.value() == ec.value());
    BOOST_TEST(sec.message() == ec.message());
}

BOOST_AUTO_TEST_SUITE_END()
