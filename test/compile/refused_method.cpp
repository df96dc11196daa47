// Must NOT compile: SSLv2, SSLv3, TLS 1.0 and TLS 1.1 methods are refused with a message naming
// the replacement (test/CMakeLists.txt checks the compiler's output for it).
#include <tlsx/context.hpp>

int main() {
    tlsx::context ctx(TLSX_REFUSED_METHOD);
    (void)ctx;
}
