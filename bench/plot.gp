# Draws bench/results.png from the medians tlsx_bench writes to results.dat:
#
#   gnuplot -e "datafile='bench/results.dat'; outfile='bench/results.png'" bench/plot.gp
#
# results.dat holds one block per panel (index 0..10: "stack value rgb label" for tlsx,
# asio_ssl and mbedtls; a value of 0 with label n/a is a missing one) and the AEAD block
# (index 11: "aead mbedtls openssl").
if (!exists("datafile")) datafile = 'bench/results.dat'
if (!exists("outfile")) outfile = 'bench/results.png'

set terminal pngcairo size 1800,1150 font "sans,10" noenhanced
set output outfile

array T[11]
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

set multiplot layout 3,4 title "tlsx vs asio::ssl::stream (OpenSSL 3) vs raw mbedTLS 2.28: TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256, P-256 (medians)" font ",13"
set style fill solid 0.85 border -1
set grid ytics
unset key
set xtics nomirror scale 0
set ytics nomirror

do for [i = 0:10] {
    set title T[i + 1]
    set autoscale xy # stats only sees points inside the ranges
    stats datafile index i using 2 nooutput
    ymax = STATS_max > 0 ? STATS_max * 1.25 : 1
    set yrange [0:ymax]
    set xrange [-0.6:2.6]
    if (i >= 9) { set format y "%g" } else { set format y "%.0f" }
    plot datafile index i using 0:2:(0.6):3:xtic(1) with boxes lc rgb variable, \
         '' index i using 0:2:4 with labels offset 0,0.8 font ",9"
}

set title "AEAD encrypt, 16 KiB records, MB/s (higher): the ceiling"
set style data histogram
set style histogram clustered gap 1
set boxwidth 0.9 relative
set autoscale xy
stats datafile index 11 using 3 nooutput
set yrange [0:(STATS_max > 0 ? STATS_max * 1.25 : 1)]
set key top right font ",9"
set xtics font ",8"
plot datafile index 11 using 2:xtic(1) title "mbedTLS 2.28" lc rgb "#7f7f7f", \
     '' index 11 using 3 title "OpenSSL 3" lc rgb "#ff7f0e"
unset multiplot
