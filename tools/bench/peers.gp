# Chart of tools/bench/peers.sh: for each operation, one bar per allocator,
# its median time (or RSS) relative to glibc's, on a log scale; lower is
# better, glibc is the dashed line at 1.
#
#   gnuplot -e "datafile='ratios.dat'; outfile='peers.svg'" peers.gp
#
# ratios.dat (sealpool_bench_table --data): a header "operation glibc ...",
# then one line per operation: its quoted label and one ratio per
# allocator, "-" where not measured.

if (!exists("datafile")) datafile = 'ratios.dat'
if (!exists("outfile")) outfile = 'peers.svg'

set terminal svg size 1280,600 dynamic font 'sans,13' background rgb 'white'
set output outfile
set datafile missing '-'

set title 'Allocators relative to glibc (median time, or RSS; lower is better)'
set ylabel 'ratio to glibc (log scale)'
set logscale y 2
set yrange [1.0/32:*]
set format y '%g'
set grid ytics lc rgb '#dddddd'
set xtics rotate by 30 right scale 0 noenhanced
set key outside top center horizontal noenhanced
set bmargin 6
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border rgb '#555555'
set boxwidth 0.95
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb '#333333'

# One colour per column: glibc grey, the peers, sealpool last in red.
array colours[7] = ['#9e9e9e', '#4e79a7', '#59a14f', '#edc948', '#b07aa1', '#f28e2b', '#e15759']
columns = system(sprintf("head -n 1 '%s' | wc -w", datafile)) + 0
colour(i) = (i == columns) ? colours[7] : colours[((i - 2) % 6) + 1]

plot for [i=2:columns] datafile using i:xtic(1) title columnheader(i) lc rgb colour(i)
