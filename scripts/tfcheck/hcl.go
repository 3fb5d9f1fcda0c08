package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The HCL fallback: a text scan of *.tf that needs no provider and no parser. It catches
// literal non-EU locations and automatic secret replication; the plan rules catch the rest.
var (
	nonEURegion = regexp.MustCompile(`"((us|asia|australia|northamerica|southamerica|me|africa)-[a-z]+[0-9]+(-[a-z])?)"`)
	nonEUMulti  = regexp.MustCompile(`(?i)\b(location|location_id|region|default)\s*=\s*"(us|asia|nam[0-9]+|global)"`)
	autoRepl    = regexp.MustCompile(`\b(auto\s*\{|automatic\s*=\s*true)`)
)

// ScanHCL scans the .tf files of dir (not recursive: the module is flat).
func ScanHCL(dir string) ([]Violation, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .tf files in %s", dir)
	}
	var out []Violation
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := stripComment(sc.Text())
			where := fmt.Sprintf("%s:%d", f, n)
			if m := nonEURegion.FindStringSubmatch(line); m != nil {
				out = append(out, Violation{"hcl-eu-locations", where, fmt.Sprintf("non-EU location %s", m[1])})
			}
			if m := nonEUMulti.FindStringSubmatch(line); m != nil {
				out = append(out, Violation{"hcl-eu-locations", where, fmt.Sprintf("non-EU location %q", m[2])})
			}
			if autoRepl.MatchString(line) {
				out = append(out, Violation{"hcl-secret-replication", where, "automatic secret replication"})
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// stripComment drops a # or // comment that is not inside a string literal.
func stripComment(line string) string {
	in := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && in:
			i++
		case c == '"':
			in = !in
		case !in && c == '#':
			return line[:i]
		case !in && c == '/' && strings.HasPrefix(line[i:], "//"):
			return line[:i]
		}
	}
	return line
}
