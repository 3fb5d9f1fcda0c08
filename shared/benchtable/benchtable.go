// Package benchtable lets a benchmark or test hand a whole table to the generated
// benchmark report (scripts/benchreport, run by `make bench`): Emit prints one line
// "BENCHTABLE {json}" on stdout, which `go test -json` carries into the report's input.
// Plain metrics need none of this: every b.ReportMetric figure gets a column in its
// package's table automatically.
package benchtable

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

// Marker starts a table line.
const Marker = "BENCHTABLE "

// Table is one table of the report.
type Table struct {
	Title   string     `json:"title"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
	Notes   string     `json:"notes,omitempty"`
}

// Emit prints t for the report.
func Emit(t Table) {
	b, err := json.Marshal(t)
	if err != nil {
		panic(err)
	}
	fmt.Fprintf(os.Stdout, "%s%s\n", Marker, b)
}

// F formats a number with prec decimals.
func F(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

// Full reports whether `make bench` asked for the full sizes (CALSYNC_BENCH_FULL=1);
// bench-smoke runs every benchmark once at sizes that fit CI.
func Full() bool { return os.Getenv("CALSYNC_BENCH_FULL") == "1" }
