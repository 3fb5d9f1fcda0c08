package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestArchivesBuildLikeTheBuildpack packages every function and builds each archive the
// way Cloud Functions' Go buildpack does: unpack, add a generated main module that imports
// the function package through a replace directive, blank-imports it so its init()
// registers the entry point, and go build. A function that cannot deploy fails here.
func TestArchivesBuildLikeTheBuildpack(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	names, err := Functions(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 8 {
		t.Fatalf("found %d functions, want at least the 8 deployed functions: %v", len(names), names)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	modPath := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(mod)
	if modPath == nil || !strings.Contains(string(modPath[1]), ".") {
		t.Fatalf("go.mod module path must contain a dot: %q", modPath)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			archive := filepath.Join(dir, name+".zip")
			if err := Build(root, name, archive); err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(dir, "src")
			unzip(t, archive, src)
			entry := entryPoint(t, src)
			// Like the buildpack: exactly one package at the root, not main, that imports
			// functions-framework's functions package.
			pkgs := map[string]bool{}
			rootFiles, _ := filepath.Glob(filepath.Join(src, "*.go"))
			usesFF := false
			for _, f := range rootFiles {
				b, _ := os.ReadFile(f)
				m := regexp.MustCompile(`(?m)^package\s+(\w+)`).FindSubmatch(b)
				pkgs[string(m[1])] = true
				usesFF = usesFF || bytes.Contains(b, []byte(`"github.com/GoogleCloudPlatform/functions-framework-go/functions"`))
			}
			if len(pkgs) != 1 || pkgs["main"] {
				t.Fatalf("root packages = %v, want exactly one non-main package", pkgs)
			}
			if !usesFF {
				t.Fatal("root package does not import functions-framework's functions package")
			}
			app := filepath.Join(dir, "app")
			if err := os.MkdirAll(app, 0o755); err != nil {
				t.Fatal(err)
			}
			pkgImport := string(modPath[1])
			gomod := fmt.Sprintf("module functions.local/app\n\ngo 1.26.0\n\nrequire %s v0.0.0\n\nreplace %s => %s\n", pkgImport, pkgImport, src)
			mainGo := fmt.Sprintf(`package main

import (
	"log"
	"os"

	_ %q
	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	os.Setenv("FUNCTION_TARGET", %q)
	if err := funcframework.Start("8080"); err != nil {
		log.Fatal(err)
	}
}
`, pkgImport, entry)
			writeFile(t, filepath.Join(app, "go.mod"), gomod)
			writeFile(t, filepath.Join(app, "main.go"), mainGo)
			// The function's go.sum covers every module the build needs.
			sum, _ := os.ReadFile(filepath.Join(src, "go.sum"))
			writeFile(t, filepath.Join(app, "go.sum"), string(sum))
			run(t, app, "go", "mod", "tidy")
			run(t, app, "go", "build", "-o", filepath.Join(dir, "fn"), ".")
		})
	}
}

// entryPoint finds the name registered with functions.HTTP/CloudEvent in the package.
func entryPoint(t *testing.T, src string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(src, "*.go"))
	re := regexp.MustCompile(`functions\.(?:HTTP|CloudEvent)\("(\w+)"`)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	t.Fatal("no functions.HTTP or functions.CloudEvent registration found")
	return ""
}

func unzip(t *testing.T, archive, dst string) {
	t.Helper()
	zr, err := zip.OpenReader(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.Contains(f.Name, "..") || strings.HasPrefix(f.Name, "/") {
			t.Fatalf("unsafe path in archive: %s", f.Name)
		}
		p := filepath.Join(dst, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, string(b))
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, dir string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func TestArchiveIsReproducible(t *testing.T) {
	t.Parallel()
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")
	if err := Build(root, "slots", a); err != nil {
		t.Fatal(err)
	}
	if err := Build(root, "slots", b); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if !bytes.Equal(x, y) {
		t.Fatal("two builds of the same tree differ")
	}
	zr, err := zip.OpenReader(a)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var sawTest, sawMod bool
	for _, f := range zr.File {
		sawTest = sawTest || strings.HasSuffix(f.Name, "_test.go")
		sawMod = sawMod || f.Name == "go.mod"
	}
	if sawTest || !sawMod {
		t.Fatalf("archive content wrong: test files %v, go.mod %v", sawTest, sawMod)
	}
}
