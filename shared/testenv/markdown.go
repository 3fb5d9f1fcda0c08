package testenv

import (
	"os"
	"strings"
	"testing"
)

// TableRows returns the rows of the Markdown table in file whose header row starts with
// header (such as "| variable | group |"), each split into its trimmed cells, for tests
// that hold a document's table to the code. It fails the test when there is no such table.
func TableRows(t testing.TB, file, header string) [][]string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, header) || i+1 >= len(lines) {
			continue
		}
		var rows [][]string
		for _, r := range lines[i+2:] {
			if r = strings.TrimSpace(r); !strings.HasPrefix(r, "|") {
				break
			}
			cells := strings.Split(strings.Trim(r, "|"), "|")
			for j := range cells {
				cells[j] = strings.TrimSpace(cells[j])
			}
			rows = append(rows, cells)
		}
		return rows
	}
	t.Fatalf("%s has no table headed %q", file, header)
	return nil
}
