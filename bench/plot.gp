# Draws bench/results.png from the medians tlsx_bench writes to results-2.28.dat and
# results-3.6.dat, the two mbedTLS backends side by side in every panel:
#
#   gnuplot -e "file228='bench/results-2.28.dat'; file36='bench/results-3.6.dat'; \
#               outfile='bench/results.png'" bench/plot.gp
#
# Each .dat holds one block per panel (index 0..14: "stack value rgb label" for tlsx, asio_ssl
# and mbedtls; a value of 0 with label n/a is a missing one) and the AEAD block (index 15:
# "aead mbedtls openssl"). A backend whose file is missing is left out (its bars are absent).
if (!exists("file228")) file228 = 'bench/results-2.28.dat'
if (!exists("file36")) file36 = 'bench/results-3.6.dat'
if (!exists("outfile")) outfile = 'bench/results.png'
has(f) = system("test -s '" . f . "' && echo 1 || echo 0") eq "1"
have228 = has(file228)
have36 = has(file36)
if (!have228 && !have36) { print "plot.gp: neither ", file228, " nor ", file36; exit }

set terminal pngcairo size 2000,1500 font "sans,10" noenhanced
set output outfile

array T[15]
T[1] = "W1 bulk in memory, MB/s (higher is better)"
T[2] = "W2 bulk over TCP loopback, MB/s (higher)"
T[3] = "W3 64-byte ping-pong, round trips/s (higher)"
T[4] = "W3 instructions per round trip (lower)"
T[5] = "W4 full handshakes/s (higher)"
T[6] = "W5 resumed by ticket, handshakes/s (higher)"
T[7] = "W5 resumed by session ID, handshakes/s (higher)"
T[8] = "W6 RSS per idle pair, KiB (lower)"
T[9] = "W6 heap per idle pair, KiB (lower)"
T[10] = "W1 heap allocations per record (lower)"
T[11] = "W3 heap allocations per round trip (lower)"
T[12] = "TLS 1.3: W1 bulk in memory, MB/s (higher)"
T[13] = "TLS 1.3: W3 ping-pong, round trips/s (higher)"
T[14] = "TLS 1.3: W4 full handshakes/s (higher)"
T[15] = "TLS 1.3: W5 resumed by ticket, handshakes/s (higher)"

set multiplot layout 4,4 title "tlsx vs asio::ssl::stream (OpenSSL 3) vs raw mbedTLS, on mbedTLS 2.28 (left three bars) and 3.6 (right three): ECDHE-ECDSA / TLS_AES_128_GCM, P-256 (medians)" font ",13"
set style fill solid 0.85 border -1
set grid ytics
unset key
set xtics nomirror scale 0 font ",8"
set ytics nomirror

# The 3.6 bars stand right of the 2.28 bars, after a gap.
off36 = 3.5
do for [i = 0:14] {
    set title T[i + 1]
    set autoscale xy # stats only sees points inside the ranges
    ymax = 0
    if (have228) { stats file228 index i using 2 nooutput; ymax = STATS_max }
    if (have36) { stats file36 index i using 2 nooutput; ymax = (STATS_max > ymax ? STATS_max : ymax) }
    set yrange [0:(ymax > 0 ? ymax * 1.3 : 1)]
    set xrange [-0.6:off36 + 2.6]
    if (i == 9 || i == 10) { set format y "%g" } else { set format y "%.0f" }
    if (have228 && have36) {
        plot file228 index i using 0:2:(0.6):3:xtic(stringcolumn(1) . "\n2.28") with boxes lc rgb variable, \
             '' index i using 0:2:4 with labels offset 0,0.8 font ",8", \
             file36 index i using ($0 + off36):2:(0.6):3:xtic(stringcolumn(1) . "\n3.6") with boxes lc rgb variable, \
             '' index i using ($0 + off36):2:4 with labels offset 0,0.8 font ",8"
    } else {
        if (have228) {
            plot file228 index i using 0:2:(0.6):3:xtic(stringcolumn(1) . "\n2.28") with boxes lc rgb variable, \
                 '' index i using 0:2:4 with labels offset 0,0.8 font ",8"
        } else {
            plot file36 index i using ($0 + off36):2:(0.6):3:xtic(stringcolumn(1) . "\n3.6") with boxes lc rgb variable, \
                 '' index i using ($0 + off36):2:4 with labels offset 0,0.8 font ",8"
        }
    }
}

set title "AEAD encrypt, 16 KiB records, MB/s (higher): the ceiling"
set autoscale xy
ymax = 0
if (have228) { stats file228 index 15 using 3 nooutput; ymax = STATS_max }
if (have36) { stats file36 index 15 using 3 nooutput; ymax = (STATS_max > ymax ? STATS_max : ymax) }
set yrange [0:(ymax > 0 ? ymax * 1.25 : 1)]
set xrange [-0.6:2.6]
if (ymax <= 0) {
    set title "AEAD encrypt: not measured in this run (tlsx_bench --only aead)"
    set yrange [0:1]
    plot 1/0 notitle
} else {
    set key top left font ",8"
    set boxwidth 0.25
    set format y "%.0f"
    set logscale y
    set yrange [10:ymax * 3]
    if (have228 && have36) {
        plot file228 index 15 using ($0 - 0.27):2:xtic(1) with boxes title "mbedTLS 2.28" lc rgb "#7f7f7f", \
             file36 index 15 using ($0):2 with boxes title "mbedTLS 3.6" lc rgb "#3f3f3f", \
             file228 index 15 using ($0 + 0.27):3 with boxes title "OpenSSL 3" lc rgb "#ff7f0e"
    } else {
        plot (have228 ? file228 : file36) index 15 using ($0 - 0.14):2:xtic(1) with boxes title (have228 ? "mbedTLS 2.28" : "mbedTLS 3.6") lc rgb "#7f7f7f", \
             '' index 15 using ($0 + 0.14):3 with boxes title "OpenSSL 3" lc rgb "#ff7f0e"
    }
}
unset multiplot
