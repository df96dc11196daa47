//
// Uses an installed tlsx: header-only Asio (no tlsx_asio), C++17, only the installed headers.
//
#include <tlsx/context.hpp>
#include <tlsx/stream.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <exception>
#include <iostream>

int main() {
    try {
        tlsx::self_signed_credentials creds = tlsx::generate_self_signed("localhost");

        tlsx::context server{tlsx::context::tls_server};
        server.use_certificate_chain(boost::asio::buffer(creds.certificate_pem));
        server.use_private_key(boost::asio::buffer(creds.private_key_pem), tlsx::context::pem);

        tlsx::context client{tlsx::context::tls_client};
        client.add_certificate_authority(boost::asio::buffer(creds.certificate_pem));

        // A stream type instantiates the templates against the installed headers.
        boost::asio::io_context io;
        tlsx::stream<boost::asio::ip::tcp::socket> s(io, client);
        s.set_server_name("localhost");

        std::cout << "OK" << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "consumer: " << e.what() << std::endl;
        return 1;
    }
}
